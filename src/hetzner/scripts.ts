/**
 * The shell programs the Hetzner user data installs (POSIX sh, checked with
 * shellcheck by test/integration/hetzner-cloud-init.test.ts). They are fixed
 * text: every value they need comes from a settings file the renderer writes
 * (`/etc/postgres-strategies/setup.conf`, `backup.conf`), so what is checked
 * is exactly what runs.
 *
 * - `postgres-strategies-setup`: mounts the volume, installs Debian's
 *   PostgreSQL package, creates the cluster on the volume (or adopts the one
 *   already there), installs postgresql.conf/pg_hba.conf/TLS files, starts
 *   the server, creates or updates the admin role from its SCRAM verifier,
 *   runs the instance bootstrap SQL when given, and enables the nightly
 *   backup timer. Idempotent: each change is logged as
 *   `postgres-strategies: changed: …`, and a second run reports `0 changes`.
 * - `postgres-strategies-backup`: `pg_dump -Fc` of every database (and the
 *   roles with `pg_dumpall --globals-only`), kept by count and by age (seed
 *   002's `BACKUP_KEEP` / `BACKUP_MAX_AGE`), on the volume or uploaded to an
 *   S3-compatible bucket with rclone.
 */

/** Where the settings and the files to install are written. */
export const SETUP_DIR = '/etc/postgres-strategies';
/** Path of the setup program. */
export const SETUP_SCRIPT_PATH = '/usr/local/sbin/postgres-strategies-setup';
/** Path of the backup program. */
export const BACKUP_SCRIPT_PATH = '/usr/local/sbin/postgres-strategies-backup';
/** The systemd units of the nightly backup. */
export const BACKUP_SERVICE_PATH = '/etc/systemd/system/postgres-strategies-backup.service';
export const BACKUP_TIMER_PATH = '/etc/systemd/system/postgres-strategies-backup.timer';

/** Quotes a value for a POSIX sh assignment (single quotes, `'` as `'\''`). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A settings file of `NAME='value'` lines. */
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
# postgres-strategies: sets up PostgreSQL on the data volume from the files
# cloud-init wrote to /etc/postgres-strategies. Idempotent: run it again after
# changing those files; it installs what changed and restarts the server.
set -eu
umask 077
SETUP_DIR=/etc/postgres-strategies
# shellcheck source=/dev/null
. "$SETUP_DIR/setup.conf"
: "\${PG_MAJOR:?}" "\${PG_PACKAGE:?}" "\${MOUNT_POINT:?}" "\${ADMIN_USER:?}"
VOLUME_DEVICE=\${VOLUME_DEVICE:-}
VOLUME_WAIT_SECONDS=\${VOLUME_WAIT_SECONDS:-300}
RUN_BOOTSTRAP=\${RUN_BOOTSTRAP:-0}
BACKUP_S3=\${BACKUP_S3:-0}
DATA_DIR="$MOUNT_POINT/$PG_MAJOR/main"
CONF_DIR="/etc/postgresql/$PG_MAJOR/main"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
changes=0
restart=0

log() { printf 'postgres-strategies: %s\\n' "$*"; }
changed() { changes=$((changes + 1)); log "changed: $*"; }
as_postgres() { runuser -u postgres -- "$@"; }

# 1. The volume, mounted by id at the mount point (fstab, so it mounts at boot too).
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
else
  log "no volume device configured: $MOUNT_POINT stays on this disk"
  mkdir -p "$MOUNT_POINT"
fi

# 2. Debian's PostgreSQL package (a createcluster.d drop-in keeps it from creating a cluster itself).
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

# 3. The cluster on the volume: created once, adopted when the volume already holds one.
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

# 4. Configuration and TLS files, installed only when they differ.
put() { # put SOURCE TARGET MODE
  if ! cmp -s "$SETUP_DIR/$1" "$2" || [ "$(stat -c %a:%U "$2")" != "$3:postgres" ]; then
    install -o postgres -g postgres -m "$3" "$SETUP_DIR/$1" "$2"
    changed "installed $2"
    restart=1
  fi
}
mkdir -p "$CONF_DIR/conf.d"
put postgresql.conf "$CONF_DIR/conf.d/90-postgres-strategies.conf" 644
put pg_hba.conf "$CONF_DIR/pg_hba.conf" 640
put server.crt "$CONF_DIR/server.crt" 644
put server.key "$CONF_DIR/server.key" 600

# 5. The server.
if pg_ctlcluster "$PG_MAJOR" main status > /dev/null 2>&1; then
  if [ "$restart" = 1 ]; then
    pg_ctlcluster "$PG_MAJOR" main restart
    changed "restarted the server"
  fi
else
  pg_ctlcluster "$PG_MAJOR" main start
  log "started the server"
fi

# 6. The admin role, from its SCRAM verifier; then the instances' bootstrap SQL.
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

# 7. The nightly backup timer (systemd only; absent in a chroot).
if [ -d /run/systemd/system ]; then
  if ! systemctl is-enabled --quiet postgres-strategies-backup.timer; then
    systemctl daemon-reload
    systemctl enable --now postgres-strategies-backup.timer
    changed "enabled postgres-strategies-backup.timer"
  fi
else
  log "systemd is not running: the backup timer is not enabled"
fi

log "setup done: $changes changes"
`;

export const BACKUP_SCRIPT = `#!/bin/sh
# postgres-strategies: pg_dump of every database, kept by count and by age.
set -eu
umask 077
# shellcheck source=/dev/null
. /etc/postgres-strategies/backup.conf
: "\${BACKUP_DIR:?}"
BACKUP_KEEP=\${BACKUP_KEEP:-0}
BACKUP_MAX_AGE_DAYS=\${BACKUP_MAX_AGE_DAYS:-0}
BACKUP_S3=\${BACKUP_S3:-0}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'postgres-strategies-backup: %s\\n' "$*"; }
stamp=$(date -u +%Y%m%dT%H%M%SZ)

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

mkdir -p "$BACKUP_DIR"
list="$BACKUP_DIR/.databases"
runuser -u postgres -- psql -X -A -t -d postgres \\
  -c "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1" > "$list"
failed=0
while IFS= read -r db; do
  [ -n "$db" ] || continue
  dir="$BACKUP_DIR/$db"
  mkdir -p "$dir"
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

/** The systemd timer of the backup. @param onCalendar systemd `OnCalendar` value */
export function backupTimer(onCalendar: string): string {
  return `[Unit]
Description=postgres-strategies: nightly pg_dump

[Timer]
OnCalendar=${onCalendar}
RandomizedDelaySec=30min
Persistent=true

[Install]
WantedBy=timers.target
`;
}
