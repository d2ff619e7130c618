/**
 * The shell programs the Hetzner user data installs (POSIX sh, checked with
 * shellcheck by test/integration/hetzner-cloud-init.test.ts). They are fixed
 * text: every value they need comes from a settings file the renderer writes
 * (`/etc/postgres-strategies/setup.conf`, `backup.conf`), so what is checked
 * is exactly what runs.
 *
 * - `postgres-strategies-setup`: mounts the volume and grows its filesystem
 *   to the volume's size (`resize2fs`: online; unmounted when PostgreSQL is
 *   not running, where the online resize is not allowed), refuses to leave another
 *   major's cluster on the volume for an empty one (unless this is the
 *   upgrade from it), installs Debian's PostgreSQL package, creates the
 *   cluster on the volume (or adopts the one already there), installs
 *   postgresql.conf/pg_hba.conf/TLS files, starts the server — or reloads it
 *   (pg_hba, TLS files, settings a reload applies) or restarts it (a setting
 *   only a restart applies, as the server's own `pg_file_settings` reports) —
 *   creates or updates the admin role from its SCRAM verifier, runs the
 *   instance bootstrap SQL when given, enables the nightly backup timer and
 *   the daily certificate renewal, and renews the certificate when it is
 *   due. Idempotent: each change is logged as `postgres-strategies: changed: …`,
 *   and a second run reports `0 changes`.
 *   `postgres-strategies-setup --renew-certificate` (the renewal timer) only
 *   renews the server certificate when fewer than `CERT_RENEW_BEFORE_DAYS`
 *   remain: from the CA key the server holds (`ca.key`, when the component
 *   gives it), same key, subject and names (the request is made from the
 *   served certificate), `CERT_VALIDITY_DAYS` but never past the CA's own
 *   expiry; installs it (also as the setup's source, so a later setup run
 *   keeps it) and reloads the server. A CA in its last
 *   `CERT_RENEW_BEFORE_DAYS` is not renewed here: the run fails and says so
 *   (`systemctl status postgres-strategies-renew-cert`).
 * - `postgres-strategies-backup`: `pg_dump -Fc` of every database (and the
 *   roles with `pg_dumpall --globals-only`), kept by count and by age (seed
 *   002's `BACKUP_KEEP` / `BACKUP_MAX_AGE`), on the volume or uploaded to an
 *   S3-compatible bucket with rclone; a database whose dump would leave less
 *   than `BACKUP_MIN_FREE_PERCENT` of the volume free is not dumped (the
 *   program then exits 1).
 */

import { shellQuote } from '../core/shell';
import { systemdTimer } from '../core/systemd';

/** Where the settings and the files to install are written. */
export const SETUP_DIR = '/etc/postgres-strategies';
/** Path of the setup program. */
export const SETUP_SCRIPT_PATH = '/usr/local/sbin/postgres-strategies-setup';
/** Path of the backup program. */
export const BACKUP_SCRIPT_PATH = '/usr/local/sbin/postgres-strategies-backup';
/** The systemd units of the nightly backup. */
export const BACKUP_SERVICE_PATH = '/etc/systemd/system/postgres-strategies-backup.service';
export const BACKUP_TIMER_PATH = '/etc/systemd/system/postgres-strategies-backup.timer';
/** The systemd units of the daily certificate renewal. */
export const RENEW_SERVICE_PATH = '/etc/systemd/system/postgres-strategies-renew-cert.service';
export const RENEW_TIMER_PATH = '/etc/systemd/system/postgres-strategies-renew-cert.timer';

/** A settings file of `NAME=value` lines, each value quoted for sh by the core's `shellQuote`. */
export function renderShellSettings(header: string, values: Record<string, string | number>): string {
  const lines = Object.entries(values).map(([k, v]) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(k)) throw new Error(`bad shell variable name ${k}`);
    return `${k}=${shellQuote(String(v))}`;
  });
  // Sourced by the programs (shellcheck cannot see the uses), and every value is literal data on
  // purpose (a quote or $ in a secret stays as it is; the integration test sources it back).
  return [`# ${header}`, '# shellcheck shell=sh disable=SC2034,SC2016,SC2089,SC2090', ...lines, ''].join('\n');
}

export const SETUP_SCRIPT = `#!/bin/sh
# postgres-strategies: sets up PostgreSQL on the data volume from the files in
# /etc/postgres-strategies (written by cloud-init on the first boot, and by the
# setupScript output later). Idempotent: run it again after changing those
# files; it installs what changed, reloads the server (TLS files, pg_hba.conf,
# settings a reload applies) or restarts it (settings only a restart applies),
# and reports "0 changes" when nothing changed.
set -eu
umask 077
SETUP_DIR=/etc/postgres-strategies
# shellcheck source=/dev/null
. "$SETUP_DIR/setup.conf"
: "\${PG_MAJOR:?}" "\${PG_PACKAGE:?}" "\${MOUNT_POINT:?}" "\${ADMIN_USER:?}"
VOLUME_DEVICE=\${VOLUME_DEVICE:-}
VOLUME_WAIT_SECONDS=\${VOLUME_WAIT_SECONDS:-300}
UPGRADE_FROM_MAJOR=\${UPGRADE_FROM_MAJOR:-}
RUN_BOOTSTRAP=\${RUN_BOOTSTRAP:-0}
BACKUP_S3=\${BACKUP_S3:-0}
CERT_RENEW=\${CERT_RENEW:-0}
CERT_VALIDITY_DAYS=\${CERT_VALIDITY_DAYS:-825}
CERT_RENEW_BEFORE_DAYS=\${CERT_RENEW_BEFORE_DAYS:-30}
PITR=\${PITR:-0}
DATA_DIR="$MOUNT_POINT/$PG_MAJOR/main"
CONF_DIR="/etc/postgresql/$PG_MAJOR/main"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
changes=0
problems=0
restart=0
reload=0

log() { printf 'postgres-strategies: %s\\n' "$*"; }
changed() { changes=$((changes + 1)); log "changed: $*"; }
as_postgres() { runuser -u postgres -- "$@"; }
query() { as_postgres psql -X -A -t -q -d postgres -c "$1"; }
server_running() { command -v pg_ctlcluster > /dev/null && pg_ctlcluster "$PG_MAJOR" main status > /dev/null 2>&1; }
# A reload is a signal: wait until the server has read the files (new sessions see the new load time).
reload_server() {
  loaded=$(query 'SELECT pg_catalog.pg_conf_load_time()')
  pg_ctlcluster "$PG_MAJOR" main reload
  waited=0
  while [ "$(query 'SELECT pg_catalog.pg_conf_load_time()')" = "$loaded" ]; do
    if [ "$waited" -ge 100 ]; then
      log "the server did not reload its configuration within 10 s" >&2
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  changed "reloaded the server"
}
not_after() { date -u -d "$(openssl x509 -enddate -noout -in "$1" | cut -d= -f2)" +%s; }
# The served certificate, renewed from the CA key when fewer than CERT_RENEW_BEFORE_DAYS remain:
# the request is made from the served certificate and its key (same subject and names), signed
# for CERT_VALIDITY_DAYS, never past the CA's expiry. Installed as the setup's source too, so a
# later setup run keeps it; the server reloads it (no restart).
renew_certificate() {
  cert="$CONF_DIR/server.crt"
  [ "$CERT_RENEW" = 1 ] && [ -f "$cert" ] || return 0
  if openssl x509 -checkend $((CERT_RENEW_BEFORE_DAYS * 86400)) -noout -in "$cert" > /dev/null; then
    return 0
  fi
  if [ ! -f "$SETUP_DIR/ca.key" ]; then
    log "the server certificate expires within $CERT_RENEW_BEFORE_DAYS days and there is no CA key here to renew it: run the setupScript of a pulumi up" >&2
    problems=$((problems + 1))
    return 0
  fi
  now=$(date -u +%s)
  days=$(( ($(not_after "$SETUP_DIR/ca.crt") - now) / 86400 ))
  if [ "$days" -le "$CERT_RENEW_BEFORE_DAYS" ]; then
    log "the CA expires in $days days: a certificate it signs would not outlive it; renew the CA (pulumi up does in its last year), run the setupScript, and give the clients the new caPem" >&2
    problems=$((problems + 1))
    return 0
  fi
  [ "$days" -lt "$CERT_VALIDITY_DAYS" ] || days=$CERT_VALIDITY_DAYS
  was=$(openssl x509 -enddate -noout -in "$cert" | cut -d= -f2)
  tmp=$(mktemp -d)
  openssl x509 -x509toreq -in "$cert" -signkey "$CONF_DIR/server.key" -copy_extensions copyall -out "$tmp/request.pem" 2> "$tmp/err" || { cat "$tmp/err" >&2; rm -rf "$tmp"; exit 1; }
  printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' 'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid' > "$tmp/extensions.cnf"
  openssl x509 -req -in "$tmp/request.pem" -CA "$SETUP_DIR/ca.crt" -CAkey "$SETUP_DIR/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days "$days" -copy_extensions copy -extfile "$tmp/extensions.cnf" -out "$tmp/server.crt" 2> "$tmp/err" || { cat "$tmp/err" >&2; rm -rf "$tmp"; exit 1; }
  openssl verify -CAfile "$SETUP_DIR/ca.crt" "$tmp/server.crt" > /dev/null || { rm -rf "$tmp"; exit 1; }
  install -o root -g root -m 644 "$tmp/server.crt" "$SETUP_DIR/server.crt"
  install -o postgres -g postgres -m 644 "$tmp/server.crt" "$cert"
  is=$(openssl x509 -enddate -noout -in "$cert" | cut -d= -f2)
  rm -rf "$tmp"
  changed "renewed the server certificate from the CA (it expires $was; the new one $is)"
  if server_running; then reload_server; fi
}

# The renewal timer's run: the certificate only.
if [ "\${1:-}" = --renew-certificate ]; then
  renew_certificate
  log "certificate check done: $changes changes"
  [ "$problems" -eq 0 ] || exit 1
  exit 0
fi

# 1. The volume, mounted by id at the mount point (fstab, so it mounts at boot too),
#    and its filesystem grown to the volume's size.
if [ -n "$VOLUME_DEVICE" ]; then
  waited=0
  while [ ! -b "$VOLUME_DEVICE" ]; do
    if [ "$waited" -ge "$VOLUME_WAIT_SECONDS" ]; then
      log "volume $VOLUME_DEVICE did not appear within $VOLUME_WAIT_SECONDS s" >&2
      exit 1
    fi
    sleep 2
    waited=$((waited + 2))
  done
  if [ ! -d "$MOUNT_POINT" ]; then
    mkdir -p "$MOUNT_POINT"
    changed "created $MOUNT_POINT"
  fi
  if ! grep -q "^$VOLUME_DEVICE " /etc/fstab; then
    printf '%s %s ext4 discard,nofail,defaults 0 0\\n' "$VOLUME_DEVICE" "$MOUNT_POINT" >> /etc/fstab
    changed "added $VOLUME_DEVICE to /etc/fstab"
  fi
  if ! mountpoint -q "$MOUNT_POINT"; then
    mount "$MOUNT_POINT"
    changed "mounted $VOLUME_DEVICE at $MOUNT_POINT"
  fi
  # A larger volumeSize reaches the device online. ext4 grows while mounted (resize2fs online,
  # which needs CAP_SYS_RESOURCE), or unmounted while PostgreSQL is not running.
  device_bytes=$(blockdev --getsize64 "$VOLUME_DEVICE")
  fs_bytes=$(dumpe2fs -h "$VOLUME_DEVICE" 2>/dev/null | awk -F: '/^Block count:/ { n = $2 } /^Block size:/ { b = $2 } END { printf "%.0f", n * b }')
  if [ $((device_bytes - fs_bytes)) -ge 1048576 ]; then
    grown="from $((fs_bytes / 1048576)) MiB to $((device_bytes / 1048576)) MiB"
    if out=$(resize2fs "$VOLUME_DEVICE" 2>&1); then
      changed "grew the filesystem on $VOLUME_DEVICE $grown (online)"
    elif ! server_running; then
      umount "$MOUNT_POINT"
      fsck=0
      e2fsck -f -y "$VOLUME_DEVICE" > /dev/null 2>&1 || fsck=$?
      if [ "$fsck" -gt 1 ]; then
        mount "$MOUNT_POINT"
        log "e2fsck found errors it could not correct on $VOLUME_DEVICE (exit $fsck): not growing it" >&2
        exit 1
      fi
      out=$(resize2fs "$VOLUME_DEVICE" 2>&1) || { mount "$MOUNT_POINT"; printf '%s\\n' "$out" >&2; exit 1; }
      mount "$MOUNT_POINT"
      changed "grew the filesystem on $VOLUME_DEVICE $grown (offline: PostgreSQL was not running)"
    else
      printf '%s\\n' "$out" >&2
      log "could not grow the filesystem on $VOLUME_DEVICE online ($grown)" >&2
      log "stop PostgreSQL (pg_ctlcluster $PG_MAJOR main stop) and run this setup again: it then grows the filesystem unmounted" >&2
      problems=$((problems + 1))
    fi
  fi
else
  log "no volume device configured: $MOUNT_POINT stays on this disk"
  mkdir -p "$MOUNT_POINT"
fi

# 2. The PostgreSQL major. A cluster of another major on the volume is never
#    left behind for an empty new one, unless this is the upgrade from it.
if [ ! -f "$DATA_DIR/PG_VERSION" ]; then
  for version in "$MOUNT_POINT"/*/main/PG_VERSION; do
    [ -f "$version" ] || continue
    other=$(cat "$version")
    [ "$other" != "$PG_MAJOR" ] || continue
    if [ "$other" != "$UPGRADE_FROM_MAJOR" ]; then
      log "the volume holds a PostgreSQL $other cluster (\${version%/PG_VERSION}) and this server is set up for PostgreSQL $PG_MAJOR: not creating an empty cluster beside it" >&2
      log "keep the image whose Debian release ships PostgreSQL $other, or upgrade on purpose (postgresMajorUpgradeFrom: $other; README, Hetzner: major upgrade)" >&2
      exit 1
    fi
    log "upgrade from PostgreSQL $other: its cluster stays in \${version%/PG_VERSION}; restore its dumps into the new one"
  done
fi

# 3. Debian's PostgreSQL package (a createcluster.d drop-in keeps it from creating a cluster itself).
installed() {
  # shellcheck disable=SC2016
  dpkg-query -W -f '\${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}
if ! installed "$PG_PACKAGE"; then
  apt-get update -q
  apt-get install -y -q -o Dpkg::Options::=--force-confold "$PG_PACKAGE"
  changed "installed $PG_PACKAGE"
fi
if [ "$BACKUP_S3" = 1 ] && ! installed rclone; then
  apt-get install -y -q rclone
  changed "installed rclone"
fi
if [ "$PITR" = 1 ] && ! installed pgbackrest; then
  apt-get update -q
  apt-get install -y -q -o Dpkg::Options::=--force-confold pgbackrest
  changed "installed pgbackrest"
fi

# 4. The cluster on the volume: created once, adopted when the volume already holds one.
chown postgres:postgres "$MOUNT_POINT"
if [ ! -f "$CONF_DIR/postgresql.conf" ]; then
  if [ -f "$DATA_DIR/PG_VERSION" ]; then
    # A new server on a volume that holds a cluster (re-provisioned): adopt it.
    if [ "$(stat -c %U "$DATA_DIR")" != postgres ]; then
      chown -R postgres:postgres "$MOUNT_POINT/$PG_MAJOR"
    fi
    # pg_createcluster adopts a data directory with its config files in it; Debian keeps
    # them in /etc, so give it the package's samples (the files below replace them).
    for f in postgresql.conf pg_hba.conf pg_ident.conf; do
      if [ ! -f "$DATA_DIR/$f" ]; then
        install -o postgres -g postgres -m 600 "/usr/share/postgresql/$PG_MAJOR/$f.sample" "$DATA_DIR/$f"
      fi
    done
    pg_createcluster --datadir "$DATA_DIR" --start-conf auto "$PG_MAJOR" main
    changed "adopted the cluster in $DATA_DIR"
  else
    pg_createcluster --datadir "$DATA_DIR" --start-conf auto "$PG_MAJOR" main -- \\
      --auth-local=peer --auth-host=scram-sha-256 --data-checksums
    changed "created cluster $PG_MAJOR/main in $DATA_DIR"
  fi
fi

# Our settings live in conf.d (Debian's createcluster.conf adds the include_dir; make sure).
if ! grep -q "^include_dir = 'conf.d'" "$CONF_DIR/postgresql.conf"; then
  printf "include_dir = 'conf.d'\\n" >> "$CONF_DIR/postgresql.conf"
  changed "added include_dir 'conf.d' to $CONF_DIR/postgresql.conf"
  restart=1
fi

# 5. Configuration and TLS files, installed only when they differ.
put() { # put SOURCE TARGET MODE: true when it installed the file
  if cmp -s "$SETUP_DIR/$1" "$2" && [ "$(stat -c %a:%U "$2")" = "$3:postgres" ]; then
    return 1
  fi
  install -o postgres -g postgres -m "$3" "$SETUP_DIR/$1" "$2"
  changed "installed $2"
}
mkdir -p "$CONF_DIR/conf.d"
settings_changed=0
if put postgresql.conf "$CONF_DIR/conf.d/90-postgres-strategies.conf" 644; then settings_changed=1; fi
if put pg_hba.conf "$CONF_DIR/pg_hba.conf" 640; then reload=1; fi
if put server.crt "$CONF_DIR/server.crt" 644; then reload=1; fi
if put server.key "$CONF_DIR/server.key" 600; then reload=1; fi
# Continuous archiving (pgBackRest): its settings, and archive_mode (a restart, as pg_file_settings says).
PITR_CONF="$CONF_DIR/conf.d/91-postgres-strategies-pitr.conf"
if [ "$PITR" = 1 ]; then
  if put pitr.conf "$PITR_CONF" 644; then settings_changed=1; fi
  put pgbackrest.conf /etc/pgbackrest.conf 640 || true
  if [ -f "$SETUP_DIR/pitr-ca.pem" ]; then put pitr-ca.pem /etc/pgbackrest-ca.pem 644 || true; fi
elif [ -f "$PITR_CONF" ]; then
  rm -f "$PITR_CONF"
  changed "removed $PITR_CONF (pitr is off: WAL is no longer archived)"
  settings_changed=1
fi

# 6. The server: started, or reloaded (pg_hba.conf and the TLS files are read on reload,
#    so a renewed certificate costs no downtime), or restarted when a changed setting
#    needs it (the server reports those in pg_file_settings before any reload).
if server_running; then
  if [ "$settings_changed" = 1 ] && [ "$restart" = 0 ]; then
    pending=$(query "SELECT string_agg(DISTINCT name, ', ' ORDER BY name) FROM pg_catalog.pg_file_settings WHERE error = 'setting could not be applied'")
    if [ -n "$pending" ]; then
      log "changed settings that need a restart: $pending"
      restart=1
    else
      reload=1
    fi
  fi
  if [ "$restart" = 1 ]; then
    pg_ctlcluster "$PG_MAJOR" main restart
    changed "restarted the server"
  elif [ "$reload" = 1 ]; then
    reload_server
  fi
else
  pg_ctlcluster "$PG_MAJOR" main start
  log "started the server"
fi

# 7. The admin role, from its SCRAM verifier; then the instances' bootstrap SQL.
run_sql() { # run_sql FILE: reports each change the script raises as a NOTICE
  # On stdin: the file is root's, and psql runs as postgres.
  out=$(as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres < "$1" 2>&1) || { printf '%s\\n' "$out" >&2; exit 1; }
  printf '%s\\n' "$out" | sed -n 's/^.*NOTICE: *postgres-strategies: /changed: /p' | while IFS= read -r line; do log "$line"; done
  n=$(printf '%s\\n' "$out" | grep -c 'NOTICE: *postgres-strategies: ' || true)
  changes=$((changes + n))
}
run_sql "$SETUP_DIR/admin.sql"
if [ "$RUN_BOOTSTRAP" = 1 ]; then
  run_sql "$SETUP_DIR/bootstrap.sql"
fi

# 8. The certificate, renewed when it is due (a setupScript may bring an older one than the server's own).
renew_certificate

# 8b. pgBackRest's stanza (created once) and its first full backup: recovery works from the start.
if [ "$PITR" = 1 ]; then
  pgbr() { as_postgres pgbackrest --stanza=main "$@"; }
  info=$(pgbr info 2>&1 || true)
  if printf '%s\n' "$info" | grep -q 'missing stanza'; then
    pgbr --log-level-console=warn stanza-create
    changed "created pgBackRest stanza main"
    info=$(pgbr info 2>&1 || true)
  fi
  if ! printf '%s\n' "$info" | grep -q 'full backup:'; then
    pgbr --log-level-console=warn --type=full backup
    changed "took the first full backup (pgBackRest)"
  fi
fi

# 9. The timers: the nightly backup, the daily certificate check, pgBackRest's full and
# differential backups (systemd only; absent in a chroot).
timers=postgres-strategies-backup.timer
[ "$CERT_RENEW" != 1 ] || timers="$timers postgres-strategies-renew-cert.timer"
[ "$PITR" != 1 ] || timers="$timers postgres-strategies-pitr-full.timer postgres-strategies-pitr-diff.timer"
if [ -d /run/systemd/system ]; then
  if [ "$PITR" = 0 ]; then
    for t in postgres-strategies-pitr-full.timer postgres-strategies-pitr-diff.timer; do
      if systemctl is-enabled --quiet "$t" 2>/dev/null; then
        systemctl disable --now "$t"
        changed "disabled $t"
      fi
    done
  fi
  for timer in $timers; do
    if ! systemctl is-enabled --quiet "$timer"; then
      systemctl daemon-reload
      systemctl enable --now "$timer"
      changed "enabled $timer"
    elif [ "$(systemctl show -p NeedDaemonReload --value "$timer" "\${timer%.timer}.service" | sort -u)" != no ]; then
      systemctl daemon-reload
      systemctl restart "$timer"
      changed "reloaded the units of $timer"
    fi
  done
else
  log "systemd is not running: $timers not enabled"
fi

log "setup done: $changes changes"
if [ "$problems" -gt 0 ]; then
  log "$problems problems (see above)" >&2
  exit 1
fi
`;

export const BACKUP_SCRIPT = `#!/bin/sh
# postgres-strategies: pg_dump of every database, kept by count and by age,
# never filling the volume past BACKUP_MIN_FREE_PERCENT.
set -eu
umask 077
# shellcheck source=/dev/null
. /etc/postgres-strategies/backup.conf
: "\${BACKUP_DIR:?}"
BACKUP_KEEP=\${BACKUP_KEEP:-0}
BACKUP_MAX_AGE_DAYS=\${BACKUP_MAX_AGE_DAYS:-0}
BACKUP_MIN_FREE_PERCENT=\${BACKUP_MIN_FREE_PERCENT:-0}
BACKUP_S3=\${BACKUP_S3:-0}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'postgres-strategies-backup: %s\\n' "$*"; }
stamp=$(date -u +%Y%m%dT%H%M%SZ)
tab=$(printf '\\t')

# Keeps the newest BACKUP_KEEP files of a listing (names sort by time) and drops those older than BACKUP_MAX_AGE_DAYS.
prune_local() { # prune_local DIR
  if [ "$BACKUP_MAX_AGE_DAYS" -gt 0 ]; then
    find "$1" -maxdepth 1 -type f -name '*.dump' -mmin +$((BACKUP_MAX_AGE_DAYS * 1440)) -print | while IFS= read -r f; do
      rm -f -- "$f"; log "pruned $f (older than $BACKUP_MAX_AGE_DAYS days)"
    done
  fi
  if [ "$BACKUP_KEEP" -gt 0 ]; then
    find "$1" -maxdepth 1 -type f -name '*.dump' -print | sort -r | tail -n +$((BACKUP_KEEP + 1)) | while IFS= read -r f; do
      rm -f -- "$f"; log "pruned $f (keep $BACKUP_KEEP)"
    done
  fi
}

prune_s3() { # prune_s3 REMOTE_DIR
  if [ "$BACKUP_MAX_AGE_DAYS" -gt 0 ]; then
    rclone delete --min-age "\${BACKUP_MAX_AGE_DAYS}d" --include '*.dump' "$1"
  fi
  if [ "$BACKUP_KEEP" -gt 0 ]; then
    rclone lsf --files-only --include '*.dump' "$1" | sort -r | tail -n +$((BACKUP_KEEP + 1)) | while IFS= read -r f; do
      rclone deletefile "$1/$f"; log "pruned $1/$f (keep $BACKUP_KEEP)"
    done
  fi
}

store() { # store NAME FILE: the file is complete; keep it locally or upload it
  if [ "$BACKUP_S3" = 1 ]; then
    remote="backup:$BACKUP_S3_BUCKET/$BACKUP_S3_PREFIX$1"
    rclone copyto "$2" "$remote/$(basename "$2")"
    rm -f -- "$2"
    log "uploaded $remote/$(basename "$2")"
    prune_s3 "$remote"
  else
    log "wrote $2"
    prune_local "$(dirname "$2")"
  fi
}

# True when a dump of about ESTIMATE bytes leaves BACKUP_MIN_FREE_PERCENT of the
# filesystem free (PostgreSQL stops when its volume is full; dumps to a bucket are staged here too).
room_for() { # room_for DB ESTIMATE
  [ "$BACKUP_MIN_FREE_PERCENT" -gt 0 ] || return 0
  sizes=$(df -P -B1 "$BACKUP_DIR" | awk 'NR == 2 { print $2 " " $4 }')
  total=\${sizes% *}
  free=\${sizes#* }
  keep_free=$((total * BACKUP_MIN_FREE_PERCENT / 100))
  if [ $((free - $2)) -lt "$keep_free" ]; then
    log "not dumping $1: its dump (about $(($2 / 1048576)) MiB) would leave less than $BACKUP_MIN_FREE_PERCENT % of the volume free ($((free / 1048576)) MiB free of $((total / 1048576)) MiB); grow volumeSize, keep fewer dumps (backup.keep) or dump to a bucket (backup.s3)" >&2
    return 1
  fi
}

mkdir -p "$BACKUP_DIR"
list="$BACKUP_DIR/.databases"
# Each database with its size in the catalog (the estimate of its first dump).
runuser -u postgres -- psql -X -A -t -d postgres \\
  -c "SELECT pg_catalog.pg_database_size(oid) || E'\\\\t' || datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname" > "$list"
failed=0
while IFS="$tab" read -r size db; do
  [ -n "$db" ] || continue
  dir="$BACKUP_DIR/$db"
  mkdir -p "$dir"
  # The newest dump of the database is the best estimate of the next one; its catalog size otherwise.
  last=$(find "$dir" -maxdepth 1 -type f -name '*.dump' -printf '%T@ %s\\n' | sort -rn | awk 'NR == 1 { print $2 }')
  if ! room_for "$db" "\${last:-$size}"; then
    failed=1
    continue
  fi
  file="$dir/$db-$stamp.dump"
  if runuser -u postgres -- pg_dump -Fc -d "$db" > "$file.partial"; then
    mv -- "$file.partial" "$file"
    store "$db" "$file"
  else
    rm -f -- "$file.partial"
    log "pg_dump of $db failed" >&2
    failed=1
  fi
done < "$list"
rm -f -- "$list"
dir="$BACKUP_DIR/_globals"
mkdir -p "$dir"
file="$dir/globals-$stamp.dump"
if runuser -u postgres -- pg_dumpall --globals-only > "$file.partial"; then
  mv -- "$file.partial" "$file"
  store _globals "$file"
else
  rm -f -- "$file.partial"
  failed=1
fi
exit "$failed"
`;

/** The systemd service of the backup. */
export const BACKUP_SERVICE = `[Unit]
Description=postgres-strategies: pg_dump of every database
After=postgresql.service
Requires=postgresql.service

[Service]
Type=oneshot
ExecStart=${BACKUP_SCRIPT_PATH}
Nice=10
IOSchedulingClass=idle
`;

/** The systemd service of the certificate renewal. */
export const RENEW_SERVICE = `[Unit]
Description=postgres-strategies: renew the server certificate when it is due
After=postgresql.service

[Service]
Type=oneshot
ExecStart=${SETUP_SCRIPT_PATH} --renew-certificate
`;

/** The systemd timer of the certificate renewal: daily, and at boot for the days the server was off. */
export const RENEW_TIMER = systemdTimer('postgres-strategies: daily check of the server certificate', 'daily', '1h');

/** The systemd timer of the backup. @param onCalendar systemd `OnCalendar` value */
export function backupTimer(onCalendar: string): string {
  return systemdTimer('postgres-strategies: nightly pg_dump', onCalendar, '30min');
}
