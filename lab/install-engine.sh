#!/usr/bin/env bash
# `npm run engine:install`: the engine `npm run engine` builds, installed the way Pulumi installs
# plugins, for an ordinary `pulumi` to use with no warning:
#
#   - every provider plugin of the build (each pulumi-resource-* binary, but the dynamic-provider
#     launcher pulumi-resource-pulumi-nodejs, which Pulumi finds next to its CLI) goes into the plugin
#     folder with `pulumi plugin install resource <name> <version> --file <binary>`, at exactly the
#     version of its npm SDK (node_modules/@pulumi/<name>) — the version the SDK asks the engine for;
#   - a folder holding only `pulumi`, `pulumi-language-nodejs` and `pulumi-resource-pulumi-nodejs`
#     (links into the build) is made beside the build: put that folder on PATH, never the build's own
#     bin folder. A plugin found on PATH is preferred over the installed one and the engine warns
#     "using pulumi-resource-<name> from $PATH" on every command.
#
# The plugin folder is $PULUMI_HOME/plugins ($PULUMI_HOME defaults to ~/.pulumi). A plugin already
# installed with the same binary is left as it is. `--bin <folder>` takes the engine's binaries from
# that folder instead of running `npm run engine` (lab/engine.ts passes the build it has).
# Progress goes to stderr; the last line on stdout is the folder to put on PATH.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[engine:install] %s\n' "$*" >&2; }
die() { printf '[engine:install] error: %s\n' "$*" >&2; exit 1; }

bin=""
if [ "${1:-}" = "--bin" ]; then
  [ -n "${2:-}" ] || die "--bin needs a folder"
  bin="$(cd "$2" && pwd)"
else
  bin="$(bash "$root/lab/build-engine.sh" | tail -1)"
fi
[ -x "$bin/pulumi" ] || die "no pulumi CLI in $bin (run npm run engine)"

home="${PULUMI_HOME:-$HOME/.pulumi}"
export PULUMI_SKIP_UPDATE_CHECK=true

installed=0
for plugin in "$bin"/pulumi-resource-*; do
  name="${plugin##*/pulumi-resource-}"
  [ "$name" = pulumi-nodejs ] && continue
  version="$(node -e 'process.stdout.write(require(process.argv[1]).version)' "$root/node_modules/@pulumi/$name/package.json" 2>/dev/null)" \
    || die "node_modules/@pulumi/$name is not installed: run npm install first"
  target="$home/plugins/resource-$name-v$version/pulumi-resource-$name"
  if [ -f "$target" ] && cmp -s "$plugin" "$target"; then
    log "$name $version: already installed in $home/plugins"
    continue
  fi
  log "$name $version: pulumi plugin install resource $name $version --file $plugin"
  "$bin/pulumi" plugin install resource "$name" "$version" --file "$plugin" --non-interactive >&2 \
    || die "pulumi plugin install resource $name $version failed"
  installed=$((installed + 1))
done

cli="$(dirname "$bin")/cli"
mkdir -p "$cli"
for b in pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs; do
  ln -sfn "$bin/$b" "$cli/$b"
done
log "$installed plugin(s) installed into $home/plugins; put $cli on PATH (the CLI and its language host only)"
printf '%s\n' "$cli"
