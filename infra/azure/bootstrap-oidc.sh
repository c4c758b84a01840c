#!/usr/bin/env bash
# One-time Azure setup for a fleet repository: an app registration that GitHub Actions signs in
# as through OIDC (no client secret exists), federated credentials for the jobs that need Azure,
# the least-privilege "openclawps fleet operator" role on the fleet's resource group, and
# Contributor on a separate resource group where Packer builds its temporary VM.
#
#   infra/azure/bootstrap-oidc.sh --repo OWNER/REPO --subscription SUB_ID \
#       --resource-group rg-claw-westus --location westus [--environment production] \
#       [--branch main] [--role-name "openclawps fleet operator"] [--app-name NAME]
#
# Needs: az (logged in as someone who may create app registrations and role assignments).
# Re-running is safe: existing objects are reused. A second fleet in the same tenant (another
# resource group or subscription) reuses the custom role and adds its resource group to the
# role's assignable scopes; --role-name gives a fleet a role of its own instead.
set -euo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

repo="" subscription="" rg="" location="" environment="production" app_name="" branch="main"
role_name="openclawps fleet operator"
while (($#)); do
  case "$1" in
    --repo) repo="$2"; shift 2 ;;
    --subscription) subscription="$2"; shift 2 ;;
    --resource-group) rg="$2"; shift 2 ;;
    --location) location="$2"; shift 2 ;;
    --environment) environment="$2"; shift 2 ;;
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
[[ "$role_name" =~ ^[A-Za-z0-9\ ._-]+$ ]] || { echo "--role-name: letters, digits, spaces, . _ - only" >&2; exit 2; }
app_name="${app_name:-openclawps-${repo//\//-}}"
build_rg="${rg}-bake"
here="$(cd "$(dirname "$0")" && pwd)"

az account set --subscription "$subscription"
tenant="$(az account show --query tenantId -o tsv)"

echo "== Resource groups: $rg (fleet), $build_rg (Packer's temporary build VM)"
az group create --name "$rg" --location "$location" --output none
az group create --name "$build_rg" --location "$location" --output none

echo "== App registration $app_name"
app_id="$(az ad app list --display-name "$app_name" --query '[0].appId' -o tsv)"
if [[ -z "$app_id" ]]; then
  app_id="$(az ad app create --display-name "$app_name" --query appId -o tsv)"
fi
app_object_id="$(az ad app show --id "$app_id" --query id -o tsv)"
sp_object_id="$(az ad sp show --id "$app_id" --query id -o tsv 2>/dev/null || az ad sp create --id "$app_id" --query id -o tsv)"

# The subject GitHub puts in the OIDC token depends on the job: a job with `environment:` gets
# repo:O/R:environment:NAME, other jobs on a branch get repo:O/R:ref:refs/heads/BRANCH.
# https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#example-subject-claims
add_federated_credential() {
  local name="$1" subject="$2"
  if az ad app federated-credential list --id "$app_object_id" --query "[?name=='$name'] | [0].name" -o tsv | grep -q .; then
    echo "   federated credential $name exists"
    return
  fi
  az ad app federated-credential create --id "$app_object_id" --output none --parameters "{
    \"name\": \"$name\",
    \"issuer\": \"https://token.actions.githubusercontent.com\",
    \"subject\": \"$subject\",
    \"audiences\": [\"api://AzureADTokenExchange\"]
  }"
  echo "   federated credential $name → $subject"
}
echo "== Federated credentials"
# Named github-main for main, as before the --branch option (a re-run finds it).
add_federated_credential "github-${branch//\//-}" "repo:${repo}:ref:refs/heads/${branch}"
add_federated_credential "github-env-${environment}" "repo:${repo}:environment:${environment}"

echo "== Role '$role_name' assignable on $rg"
scope="/subscriptions/${subscription}/resourceGroups/${rg}"
role_file="$(mktemp)"
trap 'rm -f "$role_file"' EXIT
# A custom role's name is unique in the whole directory, not per subscription or resource group
# (https://learn.microsoft.com/azure/role-based-access-control/custom-roles#custom-role-properties):
# a second fleet must find the role another fleet created, wherever it is assignable, and add its
# own resource group to the role's assignable scopes — creating a second one with that name fails.
# Listing every custom role in the tenant is the REST API's tenant-level list
# (https://learn.microsoft.com/azure/role-based-access-control/custom-roles-rest#list-all-custom-role-definitions).
arm="$(az cloud show --query endpoints.resourceManager -o tsv)"
arm="${arm%/}"
existing="$(az rest --method get \
  --url "${arm}/providers/Microsoft.Authorization/roleDefinitions?\$filter=type+eq+'CustomRole'&api-version=2022-04-01" \
  --query "value[?properties.roleName=='${role_name}'] | [0].[id, join(' ', properties.assignableScopes)]" -o tsv)"
role_id="" scope_list="" scopes=()
if [[ -n "$existing" ]]; then
  read -r role_id scope_list <<<"$existing"
  read -r -a scopes <<<"$scope_list"
fi
lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }
have_scope=false
for s in ${scopes[@]+"${scopes[@]}"}; do
  if [[ "$(lower "$s")" == "$(lower "$scope")" ]]; then have_scope=true; fi
done
# The existing scopes stay first: az resolves the role it updates at the first assignable scope.
$have_scope || scopes+=("$scope")
scopes_json="$(printf '"%s",' "${scopes[@]}")"
scopes_json="[${scopes_json%,}]"
sed -e "s|\"Name\": \"openclawps fleet operator\"|\"Name\": \"${role_name}\"|" \
  -e "s|\\[\"/subscriptions/SUBSCRIPTION_ID/resourceGroups/RESOURCE_GROUP\"\\]|${scopes_json}|" \
  "$here/fleet-operator-role.json" >"$role_file"
if [[ -n "$role_id" ]]; then
  # Updating the role in place keeps every fleet's assignments; the actions list is refreshed too.
  { echo "{"; echo "  \"id\": \"${role_id}\","; tail -n +2 "$role_file"; } >"$role_file.update"
  mv "$role_file.update" "$role_file"
  az role definition update --role-definition "@$role_file" --output none
  echo "   role exists (${#scopes[@]} assignable scope(s)); $($have_scope && echo "already assignable on" || echo "added") $scope"
else
  az role definition create --role-definition "@$role_file" --output none
  echo "   role created, assignable on $scope"
fi
assign() {
  local role="$1" at="$2"
  if az role assignment list --assignee "$sp_object_id" --role "$role" --scope "$at" --query '[0].id' -o tsv | grep -q .; then
    echo "   $role on $at exists"
  else
    # A new role definition can take a minute to replicate; retry rather than fail.
    for attempt in 1 2 3 4 5 6; do
      az role assignment create --assignee-object-id "$sp_object_id" --assignee-principal-type ServicePrincipal \
        --role "$role" --scope "$at" --output none && break
      echo "   waiting for the role to replicate (attempt $attempt)"; sleep 20
    done
    echo "   $role on $at"
  fi
}
assign "$role_name" "$scope"
# Packer creates and deletes a temporary VM and its OS disk: it gets Contributor, but only on
# its own build resource group — never on the fleet's.
assign "Contributor" "/subscriptions/${subscription}/resourceGroups/${build_rg}"

cat <<EOM

Done. Set these GitHub secrets on ${repo} (Settings → Secrets and variables → Actions):
  AZURE_CLIENT_ID        ${app_id}
  AZURE_TENANT_ID        ${tenant}
  AZURE_SUBSCRIPTION_ID  ${subscription}
With the GitHub CLI:
  gh secret set AZURE_CLIENT_ID --repo ${repo} --body ${app_id}
  gh secret set AZURE_TENANT_ID --repo ${repo} --body ${tenant}
  gh secret set AZURE_SUBSCRIPTION_ID --repo ${repo} --body ${subscription}
Then create the '${environment}' environment with required reviewers (or use the manual-dispatch
gate where your plan has none), and the CLAW_SECRETS_JSON and CLAW_SSH_PRIVATE_KEY secrets
(see examples/fleet/README.md). The branch credential covers jobs on '${branch}' only.
EOM
