#!/usr/bin/env bash
# Rewrites README.md's option table (between the ld-options markers) from src/Cli/Options/CliOptions.cs.
# tests/Cli/OptionDeclarationTests fails until this has been run after an option changed.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run --project src/Cli -c Release -v q -- help --update-readme README.md
