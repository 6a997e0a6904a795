#!/usr/bin/env node
// Native-solc-compatible front for solc-js (WebAssembly), enough for py-solc-x,
// ape-solidity and EZKL: `--version` and `--standard-json` on stdin.
// Imports are resolved from --base-path, --include-path and the working directory.
'use strict';
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
const solc = require('solc');

if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exitCode = 0;
  return;
}

if (!args.includes('--standard-json')) {
  process.stderr.write('solc.js: only --version and --standard-json are supported\n');
  process.exitCode = 2;
  return;
}

const roots = [];
for (let i = 0; i < args.length; i++) {
  if ((args[i] === '--base-path' || args[i] === '--include-path') && args[i + 1]) {
    roots.push(path.resolve(args[i + 1]));
    i++;
  }
}
roots.push(process.cwd());

function findImports(importPath) {
  const candidates = path.isAbsolute(importPath)
    ? [importPath]
    : roots.map((r) => path.join(r, importPath));
  for (const file of candidates) {
    try {
      return { contents: fs.readFileSync(file, 'utf8') };
    } catch (_) { /* try the next root */ }
  }
  return { error: `File not found: ${importPath}` };
}

const input = fs.readFileSync(0, 'utf8');
const output = solc.compile(input, { import: findImports });
process.stdout.write(output);
process.exitCode = 0;
