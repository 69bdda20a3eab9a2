#!/usr/bin/env bash
# Installs ANVCS: system packages, a release build, `git-anvcs` and its man pages and hook
# scripts under a prefix, then runs `git anvcs demo`. Safe to run again.
#   PREFIX=/opt/anvcs ./install.sh     (default: /usr/local as root, else ~/.local)
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" -eq 0 ]; then default_prefix=/usr/local; else default_prefix="$HOME/.local"; fi
PREFIX=${PREFIX:-$default_prefix}

scripts/install-deps.sh
echo "install: building release binaries (first build takes a few minutes)" >&2
# The merge engine (swift-syntax) is a separate executable so git-anvcs starts fast; it must sit beside git-anvcs.
bin=$(scripts/release-build.sh git-anvcs git-remote-anvcs anvcs-merge-engine)

install -d "$PREFIX/bin" "$PREFIX/share/anvcs/hooks" "$PREFIX/share/man/man1"
install -m 755 "$bin/git-anvcs" "$PREFIX/bin/git-anvcs"
# git runs git-remote-anvcs for every anvcs:: URL.
install -m 755 "$bin/git-remote-anvcs" "$PREFIX/bin/git-remote-anvcs"
install -m 755 "$bin/anvcs-merge-engine" "$PREFIX/bin/anvcs-merge-engine"
install -m 755 hooks/* "$PREFIX/share/anvcs/hooks/"
install -m 644 man/*.1 "$PREFIX/share/man/man1/"
command -v mandb >/dev/null && mandb -q "$PREFIX/share/man" >/dev/null 2>&1 || true
echo "install: installed git-anvcs, git-remote-anvcs, anvcs-merge-engine, hooks and man pages under $PREFIX" >&2

case ":$PATH:" in
  *":$PREFIX/bin:"*) ;;
  *) echo "install: add $PREFIX/bin to PATH so that git finds 'git anvcs' (export PATH=\"$PREFIX/bin:\$PATH\")" >&2
     export PATH="$PREFIX/bin:$PATH" ;;
esac
git anvcs demo
