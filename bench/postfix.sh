# Shared by bench/compare.sh: a private Postfix instance (own config dir and
# queue under a temporary directory, loopback ports only) that relays
# everything to one next hop, optionally through an OpenDKIM milter on a unix
# socket. Needs root (Postfix and OpenDKIM drop privileges themselves).

# start_postfix SMTP_PORT NEXT_HOP_PORT [MILTER_SOCKET]
# Sets PF_DIR.
start_postfix() {
  local port=$1 next=$2 milter=${3:-}
  PF_DIR=$(mktemp -d /tmp/sluice-bench-postfix.XXXXXX)
  chmod 755 "$PF_DIR"
  mkdir -p "$PF_DIR/etc" "$PF_DIR/queue" "$PF_DIR/data"
  chown postfix "$PF_DIR/data"
  # Debian's master.cf with every service out of the chroot (the private queue
  # has no copy of /etc) and smtpd on the loopback port only.
  awk -v port="$port" '
    /^#/ || /^[ \t]/ || NF < 8 { print; next }
    $1 == "smtp" && $2 == "inet" { $1 = "127.0.0.1:" port }
    { $5 = "n"; print }' /etc/postfix/master.cf > "$PF_DIR/etc/master.cf"
  cat > "$PF_DIR/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
maillog_file_prefixes = /tmp
maillog_file = $PF_DIR/maillog
myhostname = postfix.bench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$next
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_tls_security_level = none
smtp_tls_security_level = none
default_process_limit = 100
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtp_destination_concurrency_limit = 20
CF
  if [ -n "$milter" ]; then
    cat >> "$PF_DIR/etc/main.cf" <<CF
smtpd_milters = unix:$milter
milter_default_action = tempfail
CF
  fi
  postfix -c "$PF_DIR/etc" check >/dev/null 2>&1 || true
  postfix -c "$PF_DIR/etc" start >/dev/null 2>&1
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
    sleep 0.1
  done
}

stop_postfix() {
  [ -n "${PF_DIR:-}" ] || return 0
  postfix -c "$PF_DIR/etc" stop >/dev/null 2>&1 || true
  for _ in $(seq 1 50); do [ -f "$PF_DIR/queue/pid/master.pid" ] || break; sleep 0.1; done
  rm -rf "$PF_DIR"
  PF_DIR=
}

# start_opendkim DOMAIN SELECTOR KEY_PEM
# Sets DKIM_DIR and DKIM_SOCKET.
start_opendkim() {
  # OpenDKIM refuses a config file under a world-writable directory such as /tmp.
  DKIM_DIR=$(mktemp -d /run/sluice-bench-opendkim.XXXXXX)
  chmod 755 "$DKIM_DIR"
  install -o opendkim -m 600 "$3" "$DKIM_DIR/key.pem"
  chown opendkim "$DKIM_DIR"
  DKIM_SOCKET=$DKIM_DIR/milter.sock
  cat > "$DKIM_DIR/opendkim.conf" <<CF
Syslog no
Mode s
Domain $1
Selector $2
KeyFile $DKIM_DIR/key.pem
Socket local:$DKIM_SOCKET
UMask 000
Canonicalization relaxed/relaxed
UserID opendkim
PidFile $DKIM_DIR/opendkim.pid
CF
  opendkim -f -x "$DKIM_DIR/opendkim.conf" 2>"$DKIM_DIR/opendkim.log" &
  DKIM_PID=$!
  for _ in $(seq 1 100); do [ -S "$DKIM_SOCKET" ] && break; sleep 0.05; done
}

stop_opendkim() {
  [ -n "${DKIM_PID:-}" ] || return 0
  kill "$DKIM_PID" 2>/dev/null || true
  wait "$DKIM_PID" 2>/dev/null || true
  rm -rf "$DKIM_DIR"
  DKIM_PID=
}
