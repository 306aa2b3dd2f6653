#!/usr/bin/env bash
# aib-doctor in a CI job, shared by the GitHub Action (action.yml) and the Azure DevOps template
# (integrations/azure-devops/aib-doctor.yml): lint templates, preflight one in Azure, analyze a failed step's output.
# Each part writes annotations to the log, Markdown to the run's summary, and its exit code to the step outputs.
#
# Settings (environment; empty = skip that part):
#   AIB_CI               github | azure-devops            which annotations and summary to write
#   AIB_TEMPLATES        template files or globs (space or newline separated; ** allowed) to lint
#   AIB_FAIL_ON          error | warning                  lint level that fails the job (default error)
#   AIB_SARIF            where to write lint's SARIF (GitHub code scanning)
#   AIB_TEMPLATE_NAME, AIB_RESOURCE_GROUP                 `template NAME -g RG --preflight` (needs an Azure login)
#   AIB_ANALYZE          a file with a failed step's output or a customization.log, to explain
#   AIB_SUMMARY_DIR      Azure DevOps: folder for the Markdown summary (default: a temporary folder)
# Exit code: 1 when lint fails at AIB_FAIL_ON, 2 or more when aib-doctor could not do its job; a diagnosed
# failure (analyze, template) is reported, not re-failed: the build step that failed has already failed the job.
set -uo pipefail
shopt -s globstar nullglob

ci="${AIB_CI:?set AIB_CI to github or azure-devops}"
summary_dir="${AIB_SUMMARY_DIR:-$(mktemp -d)}"
verdict=0

summarize() {  # append stdin (Markdown) to the run's summary
  if [ "$ci" = github ]; then
    { cat; echo; } >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
  else
    local file="$summary_dir/aib-doctor-$1.md"
    cat > "$file"
    echo "##vso[task.uploadsummary]$file"
  fi
}

output() {  # a step output: name=value
  if [ "$ci" = github ]; then
    echo "$1=$2" >> "${GITHUB_OUTPUT:-/dev/null}"
  else
    echo "##vso[task.setvariable variable=${1//-/_};isOutput=true]$2"  # lint_exit_code: no '-' in DevOps names
  fi
}

if [ -n "${AIB_TEMPLATES:-}" ]; then
  files=()
  for pattern in $AIB_TEMPLATES; do
    matched=($pattern)
    [ ${#matched[@]} -eq 0 ] && echo "aib-doctor: no template matches $pattern" >&2
    files+=("${matched[@]}")
  done
  if [ ${#files[@]} -eq 0 ]; then
    echo "aib-doctor: nothing to lint" >&2
    code=2
  else
    if [ -n "${AIB_SARIF:-}" ]; then
      aib-doctor lint "${files[@]}" -o sarif > "$AIB_SARIF"
    fi
    aib-doctor lint "${files[@]}" -o markdown | summarize lint
    aib-doctor lint "${files[@]}" -o "$ci" --fail-on "${AIB_FAIL_ON:-error}"
    code=$?
  fi
  output lint-exit-code "$code"
  [ "$code" -ne 0 ] && verdict=$code
fi

if [ -n "${AIB_TEMPLATE_NAME:-}" ]; then
  preflight=(aib-doctor template "$AIB_TEMPLATE_NAME" -g "${AIB_RESOURCE_GROUP:?AIB_RESOURCE_GROUP is needed with AIB_TEMPLATE_NAME}" --preflight)
  "${preflight[@]}" -o markdown | summarize template
  "${preflight[@]}" -o "$ci"
  code=$?
  output template-exit-code "$code"
  [ "$code" -ge 2 ] && [ "$code" -ne 3 ] && [ "$verdict" -eq 0 ] && verdict=$code
fi

if [ -n "${AIB_ANALYZE:-}" ]; then
  aib-doctor analyze "$AIB_ANALYZE" -o markdown | summarize analyze
  aib-doctor analyze "$AIB_ANALYZE" -o "$ci"
  code=$?
  output analyze-exit-code "$code"
  [ "$code" -ge 2 ] && [ "$code" -ne 3 ] && [ "$verdict" -eq 0 ] && verdict=$code
fi

exit "$verdict"
