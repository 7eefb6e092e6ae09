#!/usr/bin/env bash
# Installs the NestJS packages of the natstransport interop tests into
# node_modules beside this script, exactly as package-lock.json pins them.
# Safe to run again: npm ci replaces node_modules with the same tree.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
