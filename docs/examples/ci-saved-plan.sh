#!/usr/bin/env bash
# A CI job in three steps: plan and save the plan, check it against a policy with jq, apply
# exactly the plan that was checked. The pool comes from the job's environment (XAPICTL_URL,
# XAPICTL_PASSWORD, or XAPICTL_POOL); tests/e2e/test_e2e_ci_example.py runs this script
# against a simulated pool.
#   usage: ci-saved-plan.sh RECIPE
set -euo pipefail
recipe="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 1. Plan, and save what was planned: exit 0 = the pool already matches, 3 = changes pending.
status=0
xapictl plan "$recipe" --out "$work/plan.json" || status=$?
if [ "$status" -eq 0 ]; then
  echo "ci: the pool already matches $recipe"
  exit 0
elif [ "$status" -ne 3 ]; then
  exit "$status"
fi

# 2. The policy, on the structured plan (no English to parse): no VLAN tag above 4000, and
#    no MTU change on the storage network (named Storage now, or renamed to it by this plan).
violations="$(jq -r '
  def id: .identity.uuid // .identity.ref;
  [.changes[] | select(.class == "network"
                       and (.identity.name == "Storage" or .after.name_label == "Storage"))
              | id] as $storage
  | .changes[]
  | select((.class == "VLAN" and .after.tag > 4000)
        or (.class == "network" and .action == "update" and (.after | has("MTU"))
            and (id as $n | $storage | index($n))))
  | "ci: policy refuses: \(.title) \(.subject)"
' "$work/plan.json")"
if [ -n "$violations" ]; then
  echo "$violations" >&2
  exit 1
fi

# 3. Apply exactly the plan that was checked. It is refused (exit 7, nothing sent) if the pool
#    changed since step 1 or the plan is older than --max-age: run the job again.
xapictl apply "$work/plan.json" --yes --max-age 15m
