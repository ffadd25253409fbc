// Fixture service for service.test.ts: three components that print their lifecycle on stdout.
// FIXTURE_MODE: ok | fail-later | fail-start | hang-stop.
import { runService, type Component } from '../src/index.js';

const mode = process.env.FIXTURE_MODE ?? 'ok';
const say = (line: string) => { process.stdout.write(line + '\n'); };

await runService('fixture', async (ctx) => {
  const part = (name: string, more: Partial<Component> = {}): Component => ({
    name,
    async start() { say(`start ${name}`); },
    async stop() { await new Promise((r) => setTimeout(r, 50)); say(`stop ${name}`); },
    health: () => ({ ok: true, name }),
    ...more,
  });
  return [
    part('a'),
    part('b', mode === 'fail-later'
      ? { async start() { say('start b'); setTimeout(() => ctx.fail('b', new Error('consumer loop crashed')), 300); } }
      : {}),
    part('c', {
      ...(mode === 'fail-start' ? { async start() { throw new Error('cannot connect'); } } : {}),
      ...(mode === 'hang-stop' ? { stop: () => new Promise<void>(() => { say('stop c hangs'); }) } : {}),
    }),
  ];
}, { health: (cfg) => ({ host: cfg.health.host, port: cfg.health.processorPort }) });
