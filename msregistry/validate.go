package msregistry

import "reflect"

// Validator is implemented by handler input types that check themselves.
// When the input type of a Message or Event handler, or a pointer to it,
// implements Validator, Validate runs after the payload is decoded and
// before the handler; an error answers CodeInvalidPayload with the error's
// message, and the handler does not run. It is the Go counterpart of
// NestJS's ValidationPipe:
//
//	type CreateUser struct{ Name string `json:"name"` }
//
//	func (c CreateUser) Validate() error {
//		if c.Name == "" {
//			return errors.New("name is required")
//		}
//		return nil
//	}
type Validator interface {
	Validate() error
}

// validatorFor returns the function that validates a decoded P, or nil when
// neither P nor *P implements Validator. It is chosen once, at registration.
// A nil pointer input (a null or absent payload) is not validated.
func validatorFor[P any]() func(in *P) *Error {
	if _, ok := any((*P)(nil)).(Validator); ok {
		return func(in *P) *Error { return validationError(any(in).(Validator).Validate()) }
	}
	if reflect.TypeFor[P]().Kind() != reflect.Pointer {
		return nil
	}
	var zero P
	if _, ok := any(zero).(Validator); !ok {
		return nil
	}
	return func(in *P) *Error {
		v := any(*in)
		if v == any(zero) { // a nil pointer: nothing was sent
			return nil
		}
		return validationError(v.(Validator).Validate())
	}
}

// validationError turns Validate's error into the *Error the caller sees.
func validationError(err error) *Error {
	if err == nil {
		return nil
	}
	if e := asError(err); e != nil {
		return NewError(CodeInvalidPayload, e.Message)
	}
	return NewError(CodeInvalidPayload, err.Error())
}
