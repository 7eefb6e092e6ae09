// Prints NestJS's route (the NATS subject) for each pattern of a JSON array
// read from stdin, as a JSON array.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { transformPatternToRoute } from '@nestjs/microservices/utils/transform-pattern.utils.js';

const patterns = JSON.parse(readFileSync(0, 'utf8'));
console.log(JSON.stringify(patterns.map((p) => transformPatternToRoute(p))));
