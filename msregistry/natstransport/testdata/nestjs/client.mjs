// A NestJS 12 client (ClientNats) that calls the Go handlers of the
// natstransport interop test and prints one JSON object with what came back.
//
//   node client.mjs nats://127.0.0.1:4222
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { ClientProxyFactory, NatsRecordBuilder, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';

// Keep stdout for the results: NestJS logs connection events at "log".
Logger.overrideLogger(['error', 'warn']);

const url = process.argv[2];
const client = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [url] } });
await client.connect();

const results = {};
async function send(name, pattern, data) {
  try {
    results[name] = { response: await firstValueFrom(client.send(pattern, data)) };
  } catch (err) {
    results[name] = { error: err };
  }
}

await send('app.info', 'app.info', {});
await send('math.sum', 'math.sum', [1, 2, 3.5]);
await send('math.sum.bad', 'math.sum', 'not numbers');
await send('object.pattern', { cmd: 'object.pattern' }, {});
await send('fail', 'fail', {});

// Headers travel as the Go handler's metadata.
const h = natsHeaders();
h.set('tenant', 'acme');
await send('context', 'context', new NatsRecordBuilder({}).setHeaders(h).build());

// Events: the Go side handles them concurrently with messages, so wait
// until the count shows all three.
for (let i = 0; i < 3; i++) {
  await firstValueFrom(client.emit('app.ping', {}), { defaultValue: undefined });
}
const deadline = Date.now() + 10000;
for (;;) {
  await send('app.pings', 'app.pings', {});
  if (results['app.pings'].response === 3 || Date.now() > deadline) break;
  await new Promise((resolve) => setTimeout(resolve, 20));
}

await client.close();
console.log(JSON.stringify(results));
