#!/usr/bin/env bash
# One-time Azure setup for a fleet repository: three app registrations that GitHub Actions signs
# in as through OIDC (no client secret exists), split at the approval gate:
#   - the reader (AZURE_READER_CLIENT_ID), federated to the deploy branch: the "openclawps fleet
#     reader" role on the fleet's resource group (plan, drift and verify read; bake publishes
#     image versions) and Contributor on a separate resource group where Packer builds its
#     temporary VM. Jobs that run without approval can use nothing more.
#   - the operator (AZURE_CLIENT_ID), federated to the production environment only: the
#     least-privilege "openclawps fleet operator" role (creates and replaces VMs, never deletes
#     a disk), and the "openclawps fleet size reader" role (Microsoft.Compute/skus/read only) on
#     the subscription: Azure serves the VM size catalogue apply checks at subscription scope only.
#     The environment's deployment branch policy admits only the deploy branch.
#   - the power identity (AZURE_POWER_CLIENT_ID), federated to the fleet-power environment only
#     (power.yml, unattended: no reviewers, same branch policy): the "openclawps fleet power" role
#     on the fleet's resource group (park and resume claws; it creates and deletes nothing).
#
#   infra/azure/bootstrap-oidc.sh --repo OWNER/REPO --subscription SUB_ID \
#       --resource-group rg-claw-westus --location westus [--environment production] \
#       [--branch main] [--role-name "openclawps fleet operator"] [--app-name NAME]
#       [--power-environment fleet-power]
#
# Needs: az (logged in as someone who may create app registrations and role assignments), jq, and
# gh (logged in, admin on the repository) for the environment's branch policy — without gh the
# script prints the commands. Re-running is safe: existing objects are reused. A second fleet in
# the same tenant reuses the custom roles and adds its resource group to their assignable
# scopes (the size reader its subscription); --role-name gives a fleet roles of its own instead
# (the others' are that name with "operator" replaced by "reader", "power" and "size reader").
set -euo pipefail

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

repo="" subscription="" rg="" location="" environment="production" app_name="" branch="main"
role_name="openclawps fleet operator" power_environment="fleet-power"
while (($#)); do
  case "$1" in
    --repo) repo="$2"; shift 2 ;;
    --subscription) subscription="$2"; shift 2 ;;
    --resource-group) rg="$2"; shift 2 ;;
    --location) location="$2"; shift 2 ;;
    --environment) environment="$2"; shift 2 ;;
    --power-environment) power_environment="$2"; shift 2 ;;
    --app-name) app_name="$2"; shift 2 ;;
    --branch) branch="$2"; shift 2 ;;
    --role-name) role_name="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
[[ -n "$repo" && -n "$subscription" && -n "$rg" && -n "$location" ]] || usage
[[ "$repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || { echo "--repo must be OWNER/REPO" >&2; exit 2; }
# A branch name as Git allows it, without what would break the JSON or the subject below.
[[ "$branch" =~ ^[A-Za-z0-9._/-]+$ && "$branch" != refs/* ]] || {
  echo "--branch must be a branch name such as main (not refs/heads/...)" >&2; exit 2
}
for e in "$environment" "$power_environment"; do
  [[ "$e" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "--environment/--power-environment: letters, digits, . _ - only" >&2; exit 2; }
done
[[ "$environment" != "$power_environment" ]] || { echo "--power-environment must differ from --environment" >&2; exit 2; }
[[ "$role_name" =~ ^[A-Za-z0-9\ ._-]+$ ]] || { echo "--role-name: letters, digits, spaces, . _ - only" >&2; exit 2; }
app_name="${app_name:-openclawps-${repo//\//-}}"
reader_app_name="${app_name}-reader"
power_app_name="${app_name}-power"
# role_for KIND: the role of that kind that goes with --role-name.
role_for() { if [[ "$role_name" == *operator* ]]; then echo "${role_name/operator/$1}"; else echo "$role_name $1"; fi; }
reader_role_name="$(role_for reader)"
power_role_name="$(role_for power)"
size_role_name="$(role_for "size reader")"
build_rg="${rg}-bake"
here="$(cd "$(dirname "$0")" && pwd)"

az account set --subscription "$subscription"
tenant="$(az account show --query tenantId -o tsv)"

echo "== Resource groups: $rg (fleet), $build_rg (Packer's temporary build VM)"
az group create --name "$rg" --location "$location" --output none
az group create --name "$build_rg" --location "$location" --output none

# An app registration and its service principal; prints "APP_ID APP_OBJECT_ID SP_OBJECT_ID".
ensure_app() {
  local name="$1" id object sp
  id="$(az ad app list --display-name "$name" --query '[0].appId' -o tsv)"
  [[ -n "$id" ]] || id="$(az ad app create --display-name "$name" --query appId -o tsv)"
  object="$(az ad app show --id "$id" --query id -o tsv)"
  sp="$(az ad sp show --id "$id" --query id -o tsv 2>/dev/null || az ad sp create --id "$id" --query id -o tsv)"
  echo "$id $object $sp"
}
echo "== App registrations $reader_app_name (reader), $app_name (operator) and $power_app_name (power)"
read -r reader_app_id reader_app_object_id reader_sp_object_id <<<"$(ensure_app "$reader_app_name")"
read -r app_id app_object_id sp_object_id <<<"$(ensure_app "$app_name")"
read -r power_app_id power_app_object_id power_sp_object_id <<<"$(ensure_app "$power_app_name")"

# The subject GitHub puts in the OIDC token depends on the job: a job with `environment:` gets
# repo:O/R:environment:NAME, other jobs on a branch get repo:O/R:ref:refs/heads/BRANCH.
# https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#example-subject-claims
add_federated_credential() {
  local object_id="$1" name="$2" subject="$3"
  if az ad app federated-credential list --id "$object_id" --query "[?name=='$name'] | [0].name" -o tsv | grep -q .; then
    echo "   federated credential $name exists"
    return
  fi
  az ad app federated-credential create --id "$object_id" --output none --parameters "{
    \"name\": \"$name\",
    \"issuer\": \"https://token.actions.githubusercontent.com\",
    \"subject\": \"$subject\",
    \"audiences\": [\"api://AzureADTokenExchange\"]
  }"
  echo "   federated credential $name → $subject"
}
echo "== Federated credentials"
# The branch (jobs without approval) reaches only the reader; the environment only the operator;
# the power environment only the power identity. Pull requests are federated to none.
# Named github-main for main, as before --branch.
add_federated_credential "$reader_app_object_id" "github-${branch//\//-}" "repo:${repo}:ref:refs/heads/${branch}"
add_federated_credential "$app_object_id" "github-env-${environment}" "repo:${repo}:environment:${environment}"
add_federated_credential "$power_app_object_id" "github-env-${power_environment}" "repo:${repo}:environment:${power_environment}"

subscription_scope="/subscriptions/${subscription}"
scope="${subscription_scope}/resourceGroups/${rg}"
role_file="$(mktemp)"
trap 'rm -f "$role_file" "$role_file.update"' EXIT
# A custom role's name is unique in the whole directory, not per subscription or resource group
# (https://learn.microsoft.com/azure/role-based-access-control/custom-roles#custom-role-properties):
# a second fleet must find the role another fleet created, wherever it is assignable, and add its
# own resource group to the role's assignable scopes — creating a second one with that name fails.
# Listing every custom role in the tenant is the REST API's tenant-level list
# (https://learn.microsoft.com/azure/role-based-access-control/custom-roles-rest#list-all-custom-role-definitions).
arm="$(az cloud show --query endpoints.resourceManager -o tsv)"
arm="${arm%/}"
lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }
# ensure_role NAME FILE SCOPE: creates the role from FILE (its "Name" replaced by NAME) assignable
# on SCOPE (the fleet's resource group, or the subscription), or updates the existing one, adding
# SCOPE to its assignable scopes.
ensure_role() {
  local name="$1" template="$2" at="$3" existing role_id="" scope_list="" have_scope=false s scopes_json
  local -a scopes=()
  echo "== Role '$name' assignable on $at"
  existing="$(az rest --method get \
    --url "${arm}/providers/Microsoft.Authorization/roleDefinitions?\$filter=type+eq+'CustomRole'&api-version=2022-04-01" \
    --query "value[?properties.roleName=='${name}'] | [0].[id, join(' ', properties.assignableScopes)]" -o tsv)"
  if [[ -n "$existing" ]]; then
    read -r role_id scope_list <<<"$existing"
    read -r -a scopes <<<"$scope_list"
  fi
  for s in ${scopes[@]+"${scopes[@]}"}; do
    if [[ "$(lower "$s")" == "$(lower "$at")" ]]; then have_scope=true; fi
  done
  # The existing scopes stay first: az resolves the role it updates at the first assignable scope.
  $have_scope || scopes+=("$at")
  scopes_json="$(printf '"%s",' "${scopes[@]}")"
  scopes_json="[${scopes_json%,}]"
  sed -e "s|^  \"Name\": \"[^\"]*\"|  \"Name\": \"${name}\"|" \
    -e "s|^  \"AssignableScopes\": \\[.*\\]|  \"AssignableScopes\": ${scopes_json}|" \
    "$template" >"$role_file"
  if [[ -n "$role_id" ]]; then
    # Updating the role in place keeps every fleet's assignments; the actions list is refreshed too.
    { echo "{"; echo "  \"id\": \"${role_id}\","; tail -n +2 "$role_file"; } >"$role_file.update"
    mv "$role_file.update" "$role_file"
    az role definition update --role-definition "@$role_file" --output none
    echo "   role exists (${#scopes[@]} assignable scope(s)); $($have_scope && echo "already assignable on" || echo "added") $at"
  else
    az role definition create --role-definition "@$role_file" --output none
    echo "   role created, assignable on $at"
  fi
}
ensure_role "$reader_role_name" "$here/fleet-reader-role.json" "$scope"
ensure_role "$role_name" "$here/fleet-operator-role.json" "$scope"
ensure_role "$power_role_name" "$here/fleet-power-role.json" "$scope"
# Azure serves the VM size catalogue (resource SKUs) at subscription scope only
# (https://learn.microsoft.com/rest/api/compute/resource-skus/list): a role holding only
# Microsoft.Compute/skus/read, assignable on the subscription, lets apply check a new VM's size.
ensure_role "$size_role_name" "$here/fleet-size-reader-role.json" "$subscription_scope"
assign() {
  local sp="$1" role="$2" at="$3" condition="${4:-}"
  local -a conditioned=()
  [[ -z "$condition" ]] || conditioned=(--condition "$condition" --condition-version 2.0)
  local existing
  existing="$(az role assignment list --assignee "$sp" --role "$role" --scope "$at" --query '[0].id' -o tsv)"
  if [[ -n "$existing" ]]; then
    # An assignment made before the condition existed (or edited by hand) gets it now: the
    # condition is what keeps roleAssignments/write to the one role the fleet grants.
    if [[ -n "$condition" && "$(az role assignment list --assignee "$sp" --role "$role" --scope "$at" --query '[0].condition' -o tsv)" != "$condition" ]]; then
      local body
      body="$(mktemp)"
      az role assignment list --assignee "$sp" --role "$role" --scope "$at" --query '[0]' -o json |
        jq --arg c "$condition" '.condition = $c | .conditionVersion = "2.0"' >"$body"
      az role assignment update --role-assignment "@$body" --output none
      rm -f "$body"
      echo "   $role on $at: condition set"
    else
      echo "   $role on $at exists"
    fi
  else
    # A new role definition can take a minute to replicate; retry rather than fail.
    for attempt in 1 2 3 4 5 6; do
      az role assignment create --assignee-object-id "$sp" --assignee-principal-type ServicePrincipal \
        --role "$role" --scope "$at" "${conditioned[@]}" --output none && break
      echo "   waiting for the role to replicate (attempt $attempt)"; sleep 20
    done
    echo "   $role on $at${condition:+ (with its condition)}"
  fi
}
# The operator role holds roleAssignments/write only so that each claw's VM identity can read its
# own Key Vault secret: the assignment's condition lets it grant Key Vault Secrets User to a
# service principal and nothing else (fleet-operator-condition.txt; infra/azure/README.md).
# https://learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-portal
operator_condition="$(cat "$here/fleet-operator-condition.txt")"
echo "== Role assignments"
assign "$reader_sp_object_id" "$reader_role_name" "$scope"
assign "$sp_object_id" "$role_name" "$scope" "$operator_condition"
assign "$sp_object_id" "$size_role_name" "$subscription_scope"
assign "$power_sp_object_id" "$power_role_name" "$scope"
# Packer creates and deletes a temporary VM and its OS disk: bake (un-gated, the reader) gets
# Contributor, but only on its own build resource group — never on the fleet's.
assign "$reader_sp_object_id" "Contributor" "/subscriptions/${subscription}/resourceGroups/${build_rg}"

# The operator and the power identity are federated to environments; each environment must admit
# only the deploy branch, or any branch's workflow could name it. The power environment gets no
# required reviewers: its schedule runs unattended.
# https://docs.github.com/en/rest/deployments/environments#create-or-update-an-environment
# https://docs.github.com/en/rest/deployments/branch-policies#create-a-deployment-branch-policy
ensure_environment() {
  local env="$1"
  echo "== Environment '$env': deployments from '$branch' only"
  if ! command -v gh >/dev/null; then
    echo "   gh is not installed: run these (as a repository admin):"
    echo "     gh api --method PUT repos/${repo}/environments/${env} -F deployment_branch_policy[protected_branches]=false -F deployment_branch_policy[custom_branch_policies]=true"
    echo "     gh api --method POST repos/${repo}/environments/${env}/deployment-branch-policies -f name=${branch} -f type=branch"
    return
  fi
  gh api --method PUT "repos/${repo}/environments/${env}" \
    -F "deployment_branch_policy[protected_branches]=false" -F "deployment_branch_policy[custom_branch_policies]=true" >/dev/null
  if gh api "repos/${repo}/environments/${env}/deployment-branch-policies" \
    --jq ".branch_policies[] | select(.name == \"${branch}\") | .id" | grep -q .; then
    echo "   branch policy ${branch} exists"
  else
    gh api --method POST "repos/${repo}/environments/${env}/deployment-branch-policies" \
      -f "name=${branch}" -f type=branch >/dev/null
    echo "   branch policy ${branch} added"
  fi
}
ensure_environment "$environment"
ensure_environment "$power_environment"

cat <<EOM

Done. Set these GitHub secrets on ${repo} (Settings → Secrets and variables → Actions):
  AZURE_READER_CLIENT_ID ${reader_app_id}
  AZURE_CLIENT_ID        ${app_id}
  AZURE_POWER_CLIENT_ID  ${power_app_id}
  AZURE_TENANT_ID        ${tenant}
  AZURE_SUBSCRIPTION_ID  ${subscription}
With the GitHub CLI:
  gh secret set AZURE_READER_CLIENT_ID --repo ${repo} --body ${reader_app_id}
  gh secret set AZURE_CLIENT_ID --repo ${repo} --body ${app_id}
  gh secret set AZURE_POWER_CLIENT_ID --repo ${repo} --body ${power_app_id}
  gh secret set AZURE_TENANT_ID --repo ${repo} --body ${tenant}
  gh secret set AZURE_SUBSCRIPTION_ID --repo ${repo} --body ${subscription}
Then give the '${environment}' environment required reviewers (or use the manual-dispatch gate
where your plan has none), and create the CLAW_SECRETS_JSON and CLAW_SSH_PRIVATE_KEY secrets
(see examples/fleet/README.md). Jobs on '${branch}' sign in as the reader; only jobs in the
'${environment}' environment sign in as the operator, and only jobs in the '${power_environment}'
environment (power.yml; leave it without reviewers) as the power identity.
EOM
