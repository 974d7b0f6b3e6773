#!/usr/bin/env bash
# The package as an administrator meets it (`make deb-test`, run by CI as root): dpkg -i, the unit
# verified by systemd-analyze, `sluice check` on the installed configuration, the daemon started as
# the unit starts it (its User, WorkingDirectory, UMask, ExecStartPre and ExecStart), a message sent
# with swaks and found DKIM-signed in the outbox and in the archive, a credential made by root used for
# AUTH (commands run as root act as the data directory's owner), then dpkg --purge leaving nothing.
# Every wait is bounded; any failure exits non-zero and the package is purged on the way out.
set -euo pipefail
deb=$(realpath "${1:?usage: install-test.sh PACKAGE.deb}")
[ "$(id -u)" = 0 ] || { echo "install-test.sh: needs root (dpkg -i)" >&2; exit 1; }
if dpkg -s sluice >/dev/null 2>&1; then
    echo "install-test.sh: a sluice package is installed already; not touching it" >&2
    exit 1
fi
unit=/lib/systemd/system/sluice.service
conf=/etc/sluice/sluice.yaml
pid=""
log=$(mktemp /tmp/sluice-deb-test.XXXXXX)
fail() { echo "install-test.sh: FAIL: $*" >&2; [ -s "$log" ] && tail -20 "$log" >&2; exit 1; }
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    dpkg --purge sluice >/dev/null 2>&1 || true
    rm -f "$log"
}
trap cleanup EXIT
step() { echo "== $*"; }
# Polls a condition for up to $1 seconds.
wait_for() { local limit=$1; shift; for _ in $(seq $((limit * 10))); do "$@" && return 0; sleep 0.1; done; return 1; }

step "dpkg -i $(basename "$deb")"
dpkg -i "$deb" || fail "dpkg -i"
dpkg-query -W -f='${Status}\n' sluice | grep -q "install ok installed" || fail "not installed"
getent passwd sluice >/dev/null || fail "postinst made no sluice user"
[ "$(stat -c %U:%a /var/lib/sluice)" = "sluice:750" ] || fail "/var/lib/sluice is $(stat -c %U:%a /var/lib/sluice)"
dpkg-query -W -f='${Conffiles}\n' sluice | grep -q "$conf" || fail "$conf is not a conffile"
ldd /usr/bin/sluice | grep -q libswift && fail "the binary links the Swift runtime dynamically"
/usr/bin/sluice --version
[ -s /var/lib/sluice/dkim/example.test.s1.pem ] || fail "postinst made no DKIM key"
[ "$(stat -c %U /var/lib/sluice/dkim/example.test.s1.pem)" = sluice ] || fail "the DKIM key is not the sluice user's"

step "man page and completions"
man -w sluice | grep -q /usr/share/man/man1/sluice.1.gz || fail "man -w sluice"
zcat /usr/share/man/man1/sluice.1.gz | grep -q '^\.Dt SLUICE 1' || fail "sluice.1 is not an mdoc page"
bash -c '. /usr/share/bash-completion/completions/sluice && complete -p sluice' || fail "bash completion"
grep -q '#compdef sluice' /usr/share/zsh/vendor-completions/_sluice || fail "zsh completion"
grep -q "^complete -c 'sluice'" /usr/share/fish/vendor_completions.d/sluice.fish || fail "fish completion"

step "systemd-analyze verify $unit"
out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
# Lines about other units (the host's) are not ours; anything naming sluice.service is.
if echo "$out" | grep -q "sluice.service"; then fail "systemd-analyze verify: $out"; fi

step "sluice check --config $conf"
/usr/bin/sluice check --config "$conf" || fail "sluice check"

step "the daemon as the unit starts it"
user=$(sed -n 's/^User=//p' "$unit")
group=$(sed -n 's/^Group=//p' "$unit")
workdir=$(sed -n 's/^WorkingDirectory=//p' "$unit")
umask_=$(sed -n 's/^UMask=//p' "$unit")
pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
start=$(sed -n 's/^ExecStart=//p' "$unit")
[ "$user" = sluice ] && [ "$workdir" = /var/lib/sluice ] || fail "unit runs as '$user' in '$workdir'"
cd "$workdir"
umask "$umask_"
as_unit() { setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs "$@"; }
# shellcheck disable=SC2086
as_unit $pre || fail "ExecStartPre: $pre"
# No subshell: $! is the daemon itself (setpriv execs it).
# shellcheck disable=SC2086
setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs $start >"$log" 2>&1 &
pid=$!
listening() { grep -q '"event":"ready"' "$log" || grep -q 'event=ready' "$log"; }
wait_for 30 listening || fail "the daemon did not become ready"
/usr/bin/sluice status --config "$conf" >/dev/null || fail "sluice status"

step "a message over SMTP"
swaks --silent 2 --server 127.0.0.1:2525 --from alice@example.test --to bob@example.org \
    --header "Subject: package install test" \
    --body "installed from the .deb" || fail "swaks"
delivered() { compgen -G "/var/lib/sluice/outbox/*.eml" >/dev/null; }
wait_for 30 delivered || fail "nothing reached /var/lib/sluice/outbox"
eml=$(ls /var/lib/sluice/outbox/*.eml | head -1)
grep -q "^DKIM-Signature: .*d=example.test" "$eml" || grep -q "d=example.test; s=s1" "$eml" || fail "the message is not DKIM-signed: $(head -20 "$eml")"
[ "$(stat -c %U "$eml")" = sluice ] || fail "$eml is not the sluice user's"
archived() { /usr/bin/sluice archive search --config "$conf" --text installed --json 2>/dev/null | grep -q '"subject" : "package install test"'; }
wait_for 30 archived || fail "the message is not in the archive"
step "commands run as root act as the data directory's owner"
# The secret is printed once, on stdout without --json.
secret=$(/usr/bin/sluice creds add app --name laptop --allow-from example.test --config "$conf" 2>/dev/null) || fail "creds add as root"
[ -n "$secret" ] || fail "creds add printed no secret"
others=$(find /var/lib/sluice ! -user sluice | head -5)
[ -z "$others" ] || fail "files in /var/lib/sluice not owned by sluice: $others"
swaks --silent 2 --server 127.0.0.1:2587 -tls --auth PLAIN --auth-user app --auth-password "$secret" \
    --from app@example.test --to carol@example.org --header "Subject: submitted with a credential" \
    --body "authenticated" || fail "AUTH with a credential made by root"
submitted() { [ "$(compgen -G "/var/lib/sluice/outbox/*.eml" | wc -l)" -ge 2 ]; }
wait_for 30 submitted || fail "the submitted message did not reach the outbox"
/usr/bin/sluice queue list --config "$conf" >/dev/null || fail "queue list as root"
others=$(find /var/lib/sluice ! -user sluice | head -5)
[ -z "$others" ] || fail "files in /var/lib/sluice not owned by sluice: $others"
kill -TERM "$pid"
wait_for 30 bash -c "! kill -0 $pid 2>/dev/null" || fail "the daemon did not stop on SIGTERM"
pid=""

cd /
step "dpkg --purge sluice"
dpkg --purge sluice || fail "dpkg --purge"
for path in /usr/bin/sluice /etc/sluice /var/lib/sluice "$unit" /usr/share/man/man1/sluice.1.gz; do
    [ ! -e "$path" ] || fail "$path is left after purge"
done
echo "install-test.sh: ok"
