#!/usr/bin/env bash
# `npm run engine`: builds the real Pulumi engine this repository's e2e suites run on, from sources.
#
#   pulumi                         the CLI: github.com/pulumi/pulumi/pkg/v3 at the @pulumi/pulumi release
#                                  (Go module proxy), stamped with its version
#   pulumi-language-nodejs         the Node.js language host        } from the archives in the engine
#   pulumi-resource-postgresql     the postgresql provider plugin   } sources folder (the Go module
#   pulumi-resource-random         the random provider plugin       } proxy refuses these modules);
#   pulumi-resource-tls            the tls provider plugin          } every dependency from the proxy
#   pulumi-resource-docker         the docker provider plugin       }
#   pulumi-resource-pulumi-nodejs  the dynamic-provider launcher shipped in the @pulumi/pulumi npm package
#
# Versions are those of the installed npm SDKs (node_modules/@pulumi/*): a plugin of another
# version than its SDK makes the engine warn on every command, so the archive of exactly that
# version must exist. The binaries go to .cache/engine/<key>/bin, where the key covers the
# versions, the archives' checksums, this script and the Go version: an unchanged set is not
# rebuilt. Progress goes to stderr; the last line on stdout is the folder of the binaries.
#
# Sources folder: $POSTGRES_STRATEGIES_ENGINE_SRC, else ../shared/engine-src beside the repository
# (the workplace's layout), else /work/shared/engine-src. Its SHA256SUMS is checked first.
# Only Go modules are downloaded (by the go command, from GOPROXY); nothing else.
# Steps follow the sources folder's README (verified build steps).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[engine] %s\n' "$*" >&2; }
die() { printf '[engine] error: %s\n' "$*" >&2; exit 1; }

export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null 2>&1 || die "go is not installed (looked on PATH and in /usr/local/go/bin); the engine is built with Go >= 1.25 and the Go module proxy"
command -v node >/dev/null 2>&1 || die "node is not on PATH"

# --- the sources -----------------------------------------------------------------------------
src=""
for candidate in "${POSTGRES_STRATEGIES_ENGINE_SRC:-}" "$root/../shared/engine-src" /work/shared/engine-src; do
  if [ -n "$candidate" ] && [ -f "$candidate/SHA256SUMS" ]; then src="$(cd "$candidate" && pwd)"; break; fi
done
[ -n "$src" ] || die "engine sources not found: set POSTGRES_STRATEGIES_ENGINE_SRC to the folder holding the archives and SHA256SUMS (looked in ${POSTGRES_STRATEGIES_ENGINE_SRC:-<unset>}, $root/../shared/engine-src, /work/shared/engine-src)"

sdk_version() {
  node -e 'process.stdout.write(require(process.argv[1]).version)' "$root/node_modules/@pulumi/$1/package.json" 2>/dev/null \
    || die "node_modules/@pulumi/$1 is not installed: run npm install first"
}
v_pulumi="$(sdk_version pulumi)"
v_postgresql="$(sdk_version postgresql)"
v_random="$(sdk_version random)"
v_tls="$(sdk_version tls)"
v_docker="$(sdk_version docker)"
log "versions: pulumi $v_pulumi, postgresql $v_postgresql, random $v_random, tls $v_tls, docker $v_docker (from node_modules/@pulumi)"

# archive <name or prefix-*.tar.gz>: the one archive of the sources folder of that name (a glob for
# the upstream Terraform providers, whose names carry a commit)
archive() {
  local matches
  # shellcheck disable=SC2206 # the glob is meant to expand
  matches=($src/$1)
  [ -f "${matches[0]}" ] || die "no archive $1 in $src (needed for the installed npm SDKs' versions)"
  [ "${#matches[@]}" -eq 1 ] || die "several archives match $1 in $src"
  printf '%s\n' "${matches[0]}"
}
a_nodejs="$(archive "pulumi-language-nodejs-v$v_pulumi.tar.gz")"
a_postgresql="$(archive "pulumi-postgresql-v$v_postgresql.tar.gz")"
a_pg_upstream="$(archive "terraform-provider-postgresql-*.tar.gz")"
a_random="$(archive "pulumi-random-v$v_random.tar.gz")"
a_tls="$(archive "pulumi-tls-v$v_tls.tar.gz")"
a_tls_upstream="$(archive "terraform-provider-tls-*.tar.gz")"
a_docker="$(archive "pulumi-docker-v$v_docker.tar.gz")"
a_docker_upstream="$(archive "terraform-provider-docker-*.tar.gz")"

log "checking $src/SHA256SUMS"
(cd "$src" && sha256sum --quiet -c SHA256SUMS >&2) || die "checksums in $src/SHA256SUMS do not match: the archives were changed"
for a in "$a_nodejs" "$a_postgresql" "$a_pg_upstream" "$a_random" "$a_tls" "$a_tls_upstream" "$a_docker" "$a_docker_upstream"; do
  grep -q " $(basename "$a")\$" "$src/SHA256SUMS" || die "$(basename "$a") is not listed in $src/SHA256SUMS"
done

# --- the cache key ---------------------------------------------------------------------------
key="$({
  printf 'pulumi %s postgresql %s random %s tls %s docker %s\n' "$v_pulumi" "$v_postgresql" "$v_random" "$v_tls" "$v_docker"
  go version
  cat "$src/SHA256SUMS" "${BASH_SOURCE[0]}"
} | sha256sum | cut -c1-16)"
cache="${POSTGRES_STRATEGIES_CACHE_DIR:-$root/.cache}/engine"
out="$cache/$key"
bin="$out/bin"
mkdir -p "$cache"
# One build at a time per cache folder: a second `npm run engine` (another terminal, a parallel
# test worker) waits for the first and then finds its result.
exec 9>"$cache/.lock"
if ! flock -n 9; then
  log "another build is running in $cache; waiting for it"
  flock 9
fi
if [ -f "$out/complete" ]; then
  log "already built for this set of versions"
  printf '%s\n' "$bin"
  exit 0
fi

rm -rf "$out"
work="$out/work"
mkdir -p "$work" "$bin.partial"
export GOFLAGS="-buildvcs=false -mod=mod"
export GOTOOLCHAIN=local
started=$SECONDS
step() { log "[$1/7] $2 ($((SECONDS - started)) s so far)"; }

# --- 1. the CLI: a wrapper module around pkg/v3 ------------------------------------------------
step 1 "CLI: github.com/pulumi/pulumi/pkg/v3 v$v_pulumi from the Go module proxy"
mkdir -p "$work/cli"
cat >"$work/cli/go.mod" <<EOF
module postgres-strategies.local/engine/cli

go 1.25

require (
	github.com/pulumi/pulumi/pkg/v3 v$v_pulumi
	github.com/pulumi/pulumi/sdk/v3 v$v_pulumi
)

// pkg/v3's one remote replace (its sdk/v3 => ../sdk replace is what the require above stands in for)
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e

tool github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
EOF
(cd "$work/cli" && go mod tidy >&2 \
  && go build -trimpath -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v_pulumi" \
       -o "$bin.partial/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2) || die "building the CLI failed"

# --- 2. the Node.js language host ------------------------------------------------------------
step 2 "Node.js language host $(basename "$a_nodejs")"
tar -xzf "$a_nodejs" -C "$work"
lh="$(ls -d "$work"/pulumi-language-nodejs-*/sdk/nodejs/cmd/pulumi-language-nodejs)"
(cd "$lh" \
  && go mod edit -dropreplace github.com/pulumi/pulumi/pkg/v3 -dropreplace github.com/pulumi/pulumi/sdk/v3 \
       -require "github.com/pulumi/pulumi/pkg/v3@v$v_pulumi" -require "github.com/pulumi/pulumi/sdk/v3@v$v_pulumi" \
  && go mod tidy >&2 \
  && go build -trimpath -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v_pulumi" \
       -o "$bin.partial/pulumi-language-nodejs" . >&2) || die "building the Node.js language host failed"

# --- provider plugins: generate the embedded schema, then build -------------------------------
# build_provider <name> <module path> <version> <provider dir>
build_provider() {
  local name="$1" module="$2" version="$3" dir="$4"
  (cd "$dir" && go mod tidy >&2) || die "go mod tidy of the $name provider failed"
  (cd "$dir/cmd/pulumi-resource-$name" \
    && VERSION="$version" go run generate.go >&2 \
    && go build -trimpath -ldflags "-X $module/pkg/version.Version=$version" -o "$bin.partial/pulumi-resource-$name" . >&2) \
    || die "building the $name provider failed"
}
# The bridge v3.135.0 names two modules at versions the proxy refuses; these are the versions the
# postgresql provider's go.mod names, which the proxy serves.
pin_bridge_deps() {
  (cd "$1" && go mod edit \
    -replace github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3=github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3@v3.107.4-0.20260707145817-560bdceddcf2 \
    -replace github.com/pulumi/pulumi-yaml=github.com/pulumi/pulumi-yaml@v1.37.1-0.20260709082604-efc7b02d80e5)
}

# --- 3. postgresql: provider/ and upstream/ side by side, upstream patched ----------------------
step 3 "postgresql provider $(basename "$a_postgresql") + $(basename "$a_pg_upstream")"
mkdir -p "$work/postgresql"
tar -xzf "$a_postgresql" -C "$work/postgresql" --strip-components=1
mkdir -p "$work/postgresql/upstream"
tar -xzf "$a_pg_upstream" -C "$work/postgresql/upstream" --strip-components=1
(cd "$work/postgresql/upstream" && for p in ../patches/*.patch; do patch -s -p1 <"$p"; done) || die "patching the PostgreSQL Terraform provider failed"
build_provider postgresql github.com/pulumi/pulumi-postgresql/provider/v3 "$v_postgresql" "$work/postgresql/provider"

# --- 4. random -----------------------------------------------------------------------------
step 4 "random provider $(basename "$a_random")"
mkdir -p "$work/random"
tar -xzf "$a_random" -C "$work/random" --strip-components=1
pin_bridge_deps "$work/random/provider"
build_provider random github.com/pulumi/pulumi-random/provider/v4 "$v_random" "$work/random/provider"

# --- 5. tls: its pinned upstream pseudo-version is refused by the proxy, use the archive's --------
step 5 "tls provider $(basename "$a_tls") + $(basename "$a_tls_upstream")"
mkdir -p "$work/tls" "$work/tls-upstream"
tar -xzf "$a_tls" -C "$work/tls" --strip-components=1
tar -xzf "$a_tls_upstream" -C "$work/tls-upstream" --strip-components=1
pin_bridge_deps "$work/tls/provider"
(cd "$work/tls/provider" && go mod edit -replace "github.com/hashicorp/terraform-provider-tls=$work/tls-upstream")
build_provider tls github.com/pulumi/pulumi-tls/provider/v5 "$v_tls" "$work/tls/provider"

# --- 6. docker: provider/ and upstream/ side by side, upstream patched; the bridge it pins is ------
# refused by the proxy, its next release (the same day; what pulumi-docker's next commit moves to) is served
step 6 "docker provider $(basename "$a_docker") + $(basename "$a_docker_upstream")"
mkdir -p "$work/docker/upstream"
tar -xzf "$a_docker" -C "$work/docker" --strip-components=1
tar -xzf "$a_docker_upstream" -C "$work/docker/upstream" --strip-components=1
(cd "$work/docker/upstream" && for p in ../patches/*.patch; do patch -s -p1 <"$p"; done) || die "patching the Docker Terraform provider failed"
(cd "$work/docker/provider" && go mod edit -replace github.com/pulumi/pulumi-terraform-bridge/v3=github.com/pulumi/pulumi-terraform-bridge/v3@v3.127.0)
build_provider docker github.com/pulumi/pulumi-docker/provider/v5 "$v_docker" "$work/docker/provider"

# --- 7. the dynamic-provider launcher from the npm package -----------------------------------
step 7 "pulumi-resource-pulumi-nodejs from node_modules/@pulumi/pulumi"
cp "$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" "$bin.partial/"
chmod +x "$bin.partial/"*

# check what was built reports the versions asked for
got="$("$bin.partial/pulumi" version)"
[ "$got" = "v$v_pulumi" ] || die "the CLI reports version '$got', expected v$v_pulumi"

rm -rf "$work" "$bin"
mv "$bin.partial" "$bin"
printf 'pulumi %s\npostgresql %s\nrandom %s\ntls %s\ndocker %s\n' "$v_pulumi" "$v_postgresql" "$v_random" "$v_tls" "$v_docker" >"$out/complete"
# older builds (other versions or sources) are not used again
for old in "$cache"/*/; do [ "${old%/}" = "$out" ] || rm -rf "$old"; done
log "built in $((SECONDS - started)) s"
printf '%s\n' "$bin"
