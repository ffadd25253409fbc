/**
 * Records `benign-hour.log`: a little over an hour (3640 s of actions) of varied benign traffic
 * from 10.232.1.2 to the victim subnet of the attack lab (test/helpers/attack.ts), captured live
 * with `conntrack -E` on the router, for benign-hour.test.ts.
 *
 * Actions, one at a time with a random pause of 0.3 to 8 s between them (Math.random: the
 * recording is made once and committed): a single HTTP GET to one of the five live hosts (curl),
 * a burst of 3 to 8 GETs, 1 to 3 DNS queries (dig to dnsmasq), an ssh session running a short
 * command or reading 50 to 500 kB from the victim, a `ping -c 2`.
 *
 * Run as root from the repository root:
 *   FLOE_E2E_SAVE_CAPTURES=$PWD/test/e2e/captures node --conditions=floe-source --import tsx test/e2e/captures/record-benign.ts [seconds [name]]
 */
import { AttackLab } from '../../helpers/attack.js';

const seconds = Number(process.argv[2] ?? 3640);
const name = process.argv[3] ?? 'benign-hour';
const lab = new AttackLab();
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];
const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
const counts: Record<string, number> = {};
try {
  lab.up();
  await lab.startHttp(8000);
  const key = await lab.startSshd();
  const dns = await lab.startDns();
  const ssh = ['-F', '/dev/null', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', `root@${lab.victimAddr}`];
  const names = ['www.lab.test', 'api.lab.test', 'db.lab.test', 'cdn.lab.test', 'mail.lab.test', 'git.lab.test'];
  const url = () => `http://${pick(lab.liveHosts)}:8000/index.html`;
  const actions: Array<[string, number, () => Promise<unknown>]> = [
    ['http', 35, () => lab.run(lab.attacker, 'curl', ['-s', '-o', '/dev/null', url()])],
    ['http-burst', 10, () => lab.run(lab.attacker, 'curl', ['-s', ...Array.from({ length: Math.floor(between(3, 9)) }, () => ['-o', '/dev/null', url()]).flat()])],
    ['dns', 25, () => lab.run(lab.attacker, 'dig', ['+short', '+time=2', '+tries=1', `@${dns}`, ...Array.from({ length: Math.floor(between(1, 4)) }, () => pick(names))])],
    ['ssh', 8, () => lab.run(lab.attacker, 'ssh', [...ssh, pick(['uptime', 'uname -a', 'df -h /', 'cat /proc/loadavg'])])],
    ['ssh-read', 7, () => lab.run(lab.attacker, 'ssh', [...ssh, `head -c ${Math.floor(between(50_000, 500_000))} /dev/urandom`])],
    ['ping', 15, () => lab.run(lab.attacker, 'ping', ['-c', '2', '-i', '0.5', pick(lab.liveHosts)])],
  ];
  const total = actions.reduce((s, a) => s + a[1], 0);
  const c = await lab.capture(name, async () => {
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      let r = Math.random() * total;
      const a = actions.find((x) => (r -= x[1]) < 0) ?? actions[0];
      await a[2]();
      counts[a[0]] = (counts[a[0]] ?? 0) + 1;
      await new Promise((res) => setTimeout(res, between(300, 8000)));
    }
  });
  console.log(`${name}: ${c.lines.length} events; actions ${JSON.stringify(counts)}; ${c.lost.join('; ')}`);
} finally {
  lab.down();
}
