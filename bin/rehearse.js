#!/usr/bin/env node
'use strict';
require('./register');
// From here on, everything printed, a crash Node would print itself included, goes through the redaction point.
require('../support/crash-printing').printCrashesRedacted();
require('../support/cli/main')
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      // Not one of the errors the CLI explains: a bug or an environment it does not know. Show it all.
      process.stderr.write(`rehearse: unexpected error\n${error && error.stack ? error.stack : error}\n`);
      process.exitCode = 1;
    },
  );
