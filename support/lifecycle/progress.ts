import type { SnapshotProgress } from './snapshot';

/** A snapshot's progress as a line a second: tables and rows hashed so far. */
export function snapshotProgress(database: string, report: (line: string) => void): (progress: SnapshotProgress) => void {
  return everySecond<SnapshotProgress>(report, (progress) => `snapshot of ${database}: ${progress.tablesDone} of ${progress.tables} tables, ${progress.rowsDone.toLocaleString('en-US')} rows hashed`);
}

/** Reports at most one progress line a second. */
function everySecond<T>(report: (line: string) => void, line: (progress: T) => string): (progress: T) => void {
  let shownAt = Date.now();
  return (progress) => {
    if (Date.now() - shownAt < 1000) return;
    shownAt = Date.now();
    report(line(progress));
  };
}
