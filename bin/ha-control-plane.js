#!/usr/bin/env node
'use strict';
// The `ha-control-plane` command: a shim over the compiled CLI (lib/cli.ts → build/lib/cli.js).
let cli;
try {
  cli = require('../build/lib/cli.js');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && /build[\\/]lib[\\/]cli\.js/.test(String(e.message))) {
    process.stderr.write('ha-control-plane: build/lib/cli.js is missing; run `npm run build` in the package first\n');
    process.exit(70);
  }
  throw e;
}
// `ha-control-plane schema | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
cli.runCli(process.argv.slice(2)).then((code) => { process.exitCode = code; });
