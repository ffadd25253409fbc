#!/usr/bin/env node
// The `floe` command. Runs the compiled CLI (npm run build first).
import '../dist/main.js';
