// A NestJS 12 microservice on NATS with @MessagePattern and @EventPattern
// handlers, for the Go client of the natstransport interop test. The
// decorators are applied as functions, so no build step is needed. It
// prints "ready" once it listens and stops when stdin closes.
//
//   node server.mjs nats://127.0.0.1:4222
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, RpcException, Transport } from '@nestjs/microservices';

class InteropController {
  events = 0;

  hello(data) {
    return { greeting: `hello ${data.name}` };
  }

  sum(data) {
    return data.reduce((a, b) => a + b, 0);
  }

  fail() {
    throw new RpcException({ code: 'nest_failed', message: 'nest failed on purpose' });
  }

  plainFail() {
    throw new RpcException('plain failure');
  }

  async onEvent() {
    this.events++;
  }

  count() {
    return this.events;
  }
}

function decorate(decorator, method) {
  const proto = InteropController.prototype;
  decorator(proto, method, Object.getOwnPropertyDescriptor(proto, method));
}
decorate(MessagePattern('nest.hello'), 'hello');
decorate(MessagePattern({ cmd: 'nest.sum', role: 'math' }), 'sum');
decorate(MessagePattern('nest.fail'), 'fail');
decorate(MessagePattern('nest.plain'), 'plainFail');
decorate(EventPattern('nest.event'), 'onEvent');
decorate(MessagePattern('nest.events'), 'count');
Controller()(InteropController);

class AppModule {}
Module({ controllers: [InteropController] })(AppModule);

const app = await NestFactory.createMicroservice(AppModule, {
  transport: Transport.NATS,
  options: { servers: [process.argv[2]], queue: 'nest-interop' },
  logger: ['error', 'warn'],
});
await app.listen();
console.log('ready');

process.stdin.resume();
process.stdin.on('end', async () => {
  await app.close();
  process.exit(0);
});
