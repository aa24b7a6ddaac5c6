#!/usr/bin/env bash
# examples/nightly.sh: the unattended nightly run of `az hsm-backup` (docs/unattended.md). Every recipe in examples/
# runs this one script. It needs bash, awk and az with the hsmbackup extension; no jq, no terminal, no stdin.
#
# Three steps, each run whatever the one before it exited with:
#   1. az hsm-backup create --all             back up every HSM; each writes with its own user-assigned identity
#   2. az hsm-backup prune --keep N --yes     delete old backups (never an HSM's newest finished one)
#   3. az hsm-backup check freshness --all    is the newest backup of every HSM younger than the maximum age?
# then a summary names each HSM that was not backed up (its status and error code), whose backups prune had to
# leave alone, or that is not fresh (its state and the reason).
#
# Settings (environment variables):
#   HSMBACKUP_CONTAINER_URI       required: the blob container, https://ACCOUNT.blob.core.windows.net/CONTAINER
#   HSMBACKUP_RESOURCE_GROUP      optional: only the HSMs of this resource group (-g of create and check)
#   HSMBACKUP_SUBSCRIPTION        optional: the subscription whose HSMs are backed up (--subscription)
#   HSMBACKUP_KEEP                backups prune keeps per HSM, a whole number from 1 to 10000 (default 7)
#   HSMBACKUP_MAX_AGE             the age past which an HSM's newest backup is stale (default 26h)
#   HSMBACKUP_LOGIN_IDENTITY      true: sign in first with `az login --identity` (a VM, a Container Apps job);
#                                 false or unset: use the sign-in already there (azure/login, AzureCLI@2, az login)
#   HSMBACKUP_IDENTITY_CLIENT_ID  optional: the client ID of the user-assigned identity to sign in with
#   HSMBACKUP_OUTPUT_DIR          optional: where the JSON outputs and error lines are kept (default: a new temp dir)
#   HSMBACKUP_AZ                  optional: the az to run (default: az on PATH)
# It sets AZURE_CORE_DISABLE_CONFIRM_PROMPT=true and, unless set already, AZURE_CORE_ONLY_SHOW_ERRORS=true (set it
# to false to see create's progress per HSM in the log).
#
# Kept in the output directory: create.json, prune.json, freshness.json (each command's whole JSON output) and
# create.err, prune.err, freshness.err, login.err (their error lines, also shown in the log).
#
# Exit codes:
#   0    every step exited 0: every HSM was backed up (or skipped) and is fresh
#   2    a setting above is missing or not valid (one line; nothing was run)
#   else the first non-zero code of: check freshness (13 an HSM is stale or has no backup, 12 an HSM could not be
#        checked, 3/5/7 the check could not run), then create (9 some HSMs were not backed up, 3/5/7 ...), then
#        prune (12 an HSM's backups were left alone, ...). Freshness comes first because it answers the question
#        that matters in the morning: does every HSM have a recent backup? The summary lists every step's own code.
#        A failed `az login --identity` exits with az's code before any step runs.
# Alert on any non-zero exit.

set -uo pipefail

config_error() {
    printf 'nightly.sh: %s\n' "$1" >&2
    exit 2
}

printable() {
    printf '%s' "${1//[^[:print:]]/?}"
}

blank() {
    [[ -z ${1//[[:space:]]/} ]]
}

# ---- settings ----------------------------------------------------------------------------------------------------

container_uri=${HSMBACKUP_CONTAINER_URI:-}
if blank "$container_uri"; then
    config_error "HSMBACKUP_CONTAINER_URI is not set: set it to the blob container of the backups, e.g. https://myaccount.blob.core.windows.net/backups"
fi
resource_group=${HSMBACKUP_RESOURCE_GROUP:-}
subscription=${HSMBACKUP_SUBSCRIPTION:-}
keep=${HSMBACKUP_KEEP:-7}
if ! [[ $keep =~ ^[1-9][0-9]{0,4}$ ]] || ((keep > 10000)); then
    config_error "HSMBACKUP_KEEP must be a whole number from 1 to 10000, not '$(printable "$keep")'"
fi
max_age=${HSMBACKUP_MAX_AGE:-26h}
if [[ $max_age == *[[:space:]]* ]]; then
    config_error "HSMBACKUP_MAX_AGE must be an age such as 26h, not '$(printable "$max_age")'"
fi
case ${HSMBACKUP_LOGIN_IDENTITY:-} in
[Tt][Rr][Uu][Ee] | [Yy][Ee][Ss] | 1) login_identity=true ;;
"" | [Ff][Aa][Ll][Ss][Ee] | [Nn][Oo] | 0) login_identity=false ;;
*) config_error "HSMBACKUP_LOGIN_IDENTITY must be true or false, not '$(printable "$HSMBACKUP_LOGIN_IDENTITY")'" ;;
esac
client_id=${HSMBACKUP_IDENTITY_CLIENT_ID:-}
if [[ -n $client_id && $login_identity == false ]]; then
    echo "nightly.sh: note: HSMBACKUP_IDENTITY_CLIENT_ID is ignored: HSMBACKUP_LOGIN_IDENTITY is not true, so the sign-in already there is used" >&2
fi
az_cmd=${HSMBACKUP_AZ:-az}

if [[ -n ${HSMBACKUP_OUTPUT_DIR:-} ]]; then
    out=$HSMBACKUP_OUTPUT_DIR
    mkdir -p -- "$out" 2>/dev/null || config_error "HSMBACKUP_OUTPUT_DIR '$(printable "$out")' cannot be created"
else
    out=$(mktemp -d "${TMPDIR:-/tmp}/hsmbackup-nightly.XXXXXX") || exit 1
fi
rm -f -- "$out"/create.json "$out"/prune.json "$out"/freshness.json "$out"/*.err

export AZURE_CORE_DISABLE_CONFIRM_PROMPT=true
export AZURE_CORE_ONLY_SHOW_ERRORS=${AZURE_CORE_ONLY_SHOW_ERRORS:-true}
export AZURE_CORE_NO_COLOR=true

# ---- running az --------------------------------------------------------------------------------------------------

# run_az NAME ARG...: az ARG... -o json with no stdin; its output in $out/NAME.json, its error lines in $out/NAME.err
# and on stderr; its exit code in $rc.
run_az() {
    local name=$1
    shift
    "$az_cmd" "$@" --output json </dev/null >"$out/$name.json" 2>"$out/$name.err"
    rc=$?
    if [[ -s $out/$name.err ]]; then
        cat -- "$out/$name.err" >&2
    fi
}

# flatten: az's JSON output on stdin as one line per value: its path ([0].hsmName, .leftAlone[2].reason), a tab, and
# the value (strings as JSON escapes them: no control characters). No jq: awk is on every host.
flatten() {
    awk '
    function path(   p, k) {
        p = ""
        for (k = 1; k <= depth; k++) p = p (kind[k] == "a" ? "[" idx[k] "]" : "." key[k])
        return p
    }
    {
        line = $0; n = length(line); i = 1
        while (i <= n) {
            c = substr(line, i, 1)
            if (c == "{" || c == "[") {
                depth++; kind[depth] = (c == "{") ? "o" : "a"; idx[depth] = 0; key[depth] = ""; want_key[depth] = 1; i++
            } else if (c == "}" || c == "]") {
                depth--; i++
            } else if (c == ",") {
                if (kind[depth] == "a") idx[depth]++; else want_key[depth] = 1
                i++
            } else if (c == ":") {
                want_key[depth] = 0; i++
            } else if (c == "\"") {
                s = ""; j = i + 1
                while (j <= n) {
                    d = substr(line, j, 1)
                    if (d == "\\") { s = s substr(line, j, 2); j += 2 }
                    else if (d == "\"") break
                    else { s = s d; j++ }
                }
                i = j + 1
                if (kind[depth] == "o" && want_key[depth]) key[depth] = s; else print path() "\t" s
            } else if (c == " " || c == "\t" || c == "\r") {
                i++
            } else {
                j = i
                while (j <= n && index(",}] \t\r", substr(line, j, 1)) == 0) j++
                v = substr(line, i, j - i); i = j
                if (v != "null") print path() "\t" v
            }
        }
    }'
}

# records FILE LIST FIELD...: one line per element of the array LIST of the JSON in FILE ("" for a top-level array,
# .leftAlone for a list of prune's output), with its FIELDs (error.code for a nested one) separated by \037.
records() {
    local file=$1 list=$2
    shift 2
    [[ -s $file ]] || return 0
    flatten <"$file" | awk -F '\t' -v list="$list" -v fields="$*" '
    BEGIN { nf = split(fields, want, " "); plen = length(list); count = 0 }
    substr($1, 1, plen + 1) == list "[" {
        rest = substr($1, plen + 2); k = index(rest, "]")
        if (k == 0 || substr(rest, k + 1, 1) != ".") next
        n = substr(rest, 1, k - 1) + 0
        value[n, substr(rest, k + 2)] = $2
        if (n + 1 > count) count = n + 1
    }
    END {
        for (n = 0; n < count; n++) {
            line = ""
            for (f = 1; f <= nf; f++) line = line (f > 1 ? "\037" : "") value[n, want[f]]
            print line
        }
    }'
}

# last_error_line FILE: az's last ERROR line in FILE (az may add lines of advice after it), else its last line.
last_error_line() {
    [[ -s $1 ]] || return 0
    awk '/^ERROR:/ { error = $0 } NF { last = $0 } END { print (error != "" ? error : last) }' "$1"
}

# ---- sign-in -----------------------------------------------------------------------------------------------------

echo "nightly.sh: outputs in $out"
if [[ $login_identity == true ]]; then
    # The releases that brought MSAL's managed identity as a preview use it only when told to, and only MSAL knows
    # the App Service / Container Apps endpoint (IDENTITY_ENDPOINT, IDENTITY_HEADER); later releases use it anyway,
    # and older ones ignore the setting (they know a VM's endpoint, and MSI_ENDPOINT).
    export AZURE_CORE_USE_MSAL_MANAGED_IDENTITY=${AZURE_CORE_USE_MSAL_MANAGED_IDENTITY:-true}
    login_args=(login --identity)
    if [[ -n $client_id ]]; then
        # az 2.69 and later name a user-assigned identity with --client-id; older releases with --username.
        login_help=$("$az_cmd" login --help </dev/null 2>/dev/null) || true
        if [[ $login_help == *--client-id* ]]; then
            login_args+=(--client-id "$client_id")
        else
            login_args+=(--username "$client_id")
        fi
    fi
    echo "nightly.sh: signing in with the managed identity${client_id:+ $client_id}"
    run_az login "${login_args[@]}"
    rm -f -- "$out/login.json"
    if ((rc != 0)); then
        echo "nightly.sh: FAILED: az login --identity exited $rc: $(last_error_line "$out/login.err")"
        exit "$rc"
    fi
fi

scope=()
if [[ -n $resource_group ]]; then
    scope+=(--resource-group "$resource_group")
fi
if [[ -n $subscription ]]; then
    scope+=(--subscription "$subscription")
fi

# ---- the three steps ---------------------------------------------------------------------------------------------

echo "nightly.sh: backing up every HSM${resource_group:+ of resource group $resource_group} into $container_uri"
run_az create hsm-backup create --all ${scope[@]+"${scope[@]}"} \
    --storage-container-uri "$container_uri" --use-user-managed-identity
create_rc=$rc

echo "nightly.sh: pruning, keeping $keep backups of each HSM"
run_az prune hsm-backup prune --storage-container-uri "$container_uri" --keep "$keep" --yes \
    --use-user-managed-identity
prune_rc=$rc

echo "nightly.sh: checking that every HSM has a backup younger than $max_age"
run_az freshness hsm-backup check freshness --all ${scope[@]+"${scope[@]}"} \
    --storage-container-uri "$container_uri" --use-user-managed-identity --max-age "$max_age"
fresh_rc=$rc

# ---- the summary -------------------------------------------------------------------------------------------------

echo
echo "nightly.sh: summary (create exit $create_rc, prune exit $prune_rc, check freshness exit $fresh_rc)"
problems=0
total=0
while IFS=$'\037' read -r name status code message reason; do
    total=$((total + 1))
    case $status in
    Succeeded | Skipped) ;;
    *)
        problems=$((problems + 1))
        echo "  NOT BACKED UP  $name: ${status:-no status}${code:+ ($code)}${message:+: $message}${reason:+ $reason}"
        ;;
    esac
done < <(records "$out/create.json" "" hsmName status error.code error.message reason)
if ((create_rc != 0 && total == 0)); then
    echo "  create did not run: $(last_error_line "$out/create.err")"
elif ((create_rc != 0 && problems == 0)); then
    echo "  create: $(last_error_line "$out/create.err")"
fi

left_alone=""
while IFS=$'\037' read -r name reason; do
    case " $left_alone " in
    *" $name "*) ;;
    *)
        left_alone="$left_alone $name"
        echo "  LEFT ALONE     $name: prune kept all its backups: $reason"
        ;;
    esac
done < <(records "$out/prune.json" .leftAlone hsmName reason)
if ((prune_rc != 0 && ${#left_alone} == 0)); then
    echo "  prune: $(last_error_line "$out/prune.err")"
fi

stale=0
while IFS=$'\037' read -r name state reason; do
    case $state in
    Fresh | Skipped) ;;
    *)
        stale=$((stale + 1))
        echo "  NOT FRESH      $name: ${state:-no state}${reason:+: $reason}"
        ;;
    esac
done < <(records "$out/freshness.json" "" hsmName state reason)
if ((fresh_rc != 0 && stale == 0)); then
    echo "  check freshness: $(last_error_line "$out/freshness.err")"
fi

# The exit code: freshness first, then create, then prune (the header says why).
final=$fresh_rc
if ((final == 0)); then
    final=$create_rc
fi
if ((final == 0)); then
    final=$prune_rc
fi
if ((final == 0)); then
    echo "nightly.sh: OK: $total HSM(s) backed up and fresh; outputs in $out"
else
    echo "nightly.sh: FAILED (exit $final); outputs in $out"
fi
exit "$final"
