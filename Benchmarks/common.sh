# Shared by the benchmark scripts: hyperfine, a release build on PATH, a scratch directory
# removed on exit, and a hermetic git identity. Source it from the repository root.
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null 2>&1 || sudo apt-get install -y -qq hyperfine; }
bin=$(scripts/release-build.sh git-anvcs 2>/dev/null)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PATH="$bin:$PATH" HOME="$work" GIT_CONFIG_NOSYSTEM=1 ANVCS_HOOKS_DIR="$PWD/hooks"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
