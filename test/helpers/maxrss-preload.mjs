// Preloaded with `node --import` into a process under test: on exit, writes the process's peak
// resident set size (getrusage ru_maxrss, KiB, as process.resourceUsage().maxRSS gives it) to
// the file named by FLOE_TEST_MAXRSS_FILE. A resource bound for tests, not a timing.
import { writeFileSync } from 'node:fs';

const file = process.env.FLOE_TEST_MAXRSS_FILE;
if (file)
  process.on('exit', () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
