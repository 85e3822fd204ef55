import { describe, expect, it } from 'vitest';
import { parseProcStat } from '../../src/profiler/proctree.js';

describe('/proc/<pid>/stat parsing', () => {
  it('reads utime+stime+cutime+cstime and rss after a command name holding spaces and parentheses', () => {
    // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime … rss (24)
    const text = '4242 (evil) (name x) S 17 4242 4242 0 -1 4194304 10 0 0 0 150 50 7 3 20 0 1 0 100 1000000 2560 18446744073709551615\n';
    expect(parseProcStat(text)).toEqual({ pid: 4242, ppid: 17, cpuTicks: 150 + 50 + 7 + 3, rssPages: 2560 });
  });
});
