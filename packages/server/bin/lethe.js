#!/usr/bin/env node
// The `lethe` command. A committed file, so that `npm ci` can link it before the build has
// produced dist/ (npm skips bins whose target does not exist yet).
import '../dist/cli/main.js';
