#!/usr/bin/env bash
# vm-runtime's checks: shellcheck on every script, then the bats suites (real scripts in a
# sandbox, see test/helpers/sandbox.bash). The root `npm test` calls this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in shellcheck bats; do
  command -v "$tool" >/dev/null || {
    echo "vm-runtime/test/run.sh: $tool is not installed (apt-get install $tool)" >&2
    exit 1
  }
done

# Every shell script: *.sh, *.bash, the bats suites and the extensionless command stubs.
mapfile -t scripts < <(
  find . -type f \( -name '*.sh' -o -name '*.bash' -o -name '*.bats' -o \( -path './test/*stubs/*' ! -name '*.md' \) \) -print |
    LC_ALL=C sort
)
echo "shellcheck: ${#scripts[@]} scripts"
shellcheck -x "${scripts[@]}"

bats "$@" test
