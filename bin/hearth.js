#!/usr/bin/env node
// The admin CLI. `npm ci` builds dist/ (the `prepare` script); run `npm run build` after editing.
import '../dist/cli/main.js';
