#!/bin/bash
# tests/integration/sandbox_env.sh — the workload's environment is chosen, not
# inherited: the caller's AWS_SECRET_ACCESS_KEY, SSH_AUTH_SOCK and tokens do
# not reach it; the allowlist (PATH, LANG, LC_*, TERM, TZ) does; --env and
# --env-file add exactly what they name; a bad env file fails with FILE:LINE;
# the proxy variables cannot be overridden.
. "$(dirname "$0")/lib/sandbox_lib.sh"

export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI-secret SSH_AUTH_SOCK=/tmp/ssh-XXXX/agent.1
export GITHUB_TOKEN=ghp_secret LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm TZ=UTC
export PASSME=caller-value
out=$(gbrun -- /usr/bin/env)
check "AWS_SECRET_ACCESS_KEY absent" "" "$(echo "$out" | grep '^AWS_SECRET_ACCESS_KEY=')"
check "SSH_AUTH_SOCK absent" "" "$(echo "$out" | grep '^SSH_AUTH_SOCK=')"
check "GITHUB_TOKEN absent" "" "$(echo "$out" | grep '^GITHUB_TOKEN=')"
check "PASSME absent without --env" "" "$(echo "$out" | grep '^PASSME=')"
check "LANG passes" "LANG=C.UTF-8" "$(echo "$out" | grep '^LANG=')"
check "LC_ALL passes" "LC_ALL=C.UTF-8" "$(echo "$out" | grep '^LC_ALL=')"
check "TERM passes" "TERM=xterm" "$(echo "$out" | grep '^TERM=')"
check "TZ passes" "TZ=UTC" "$(echo "$out" | grep '^TZ=')"
check "PATH set" "1" "$(echo "$out" | grep -c '^PATH=')"
check "HTTPS_PROXY forced" "HTTPS_PROXY=http://127.0.0.1:3128" "$(echo "$out" | grep '^HTTPS_PROXY=')"

printf '# settings\nFROMFILE=one\nexport QUOTED=a b=c\nSAME=file\n' >"$T/good.env"
out=$(gbrun --env-file "$T/good.env" --env SAME=arg --env PASSME --env NEW=1 -- /usr/bin/env)
check "--env-file value" "FROMFILE=one" "$(echo "$out" | grep '^FROMFILE=')"
check "--env-file export" "QUOTED=a b=c" "$(echo "$out" | grep '^QUOTED=')"
check "--env wins over the file" "SAME=arg" "$(echo "$out" | grep '^SAME=')"
check "--env NAME copies the caller" "PASSME=caller-value" "$(echo "$out" | grep '^PASSME=')"
check "--env NAME=VALUE" "NEW=1" "$(echo "$out" | grep '^NEW=')"
check "still no secret" "" "$(echo "$out" | grep '^AWS_SECRET_ACCESS_KEY=')"

printf 'A=1\n\nnot an assignment\n' >"$T/bad.env"
err=$(gbrun --env-file "$T/bad.env" -- /bin/true 2>&1)
check "bad env file exit" 125 "$?"
check "bad env file names file:line" 1 "$(echo "$err" | grep -c "$T/bad.env:3: expected NAME=VALUE")"
err=$(gbrun --env HTTPS_PROXY=http://198.18.0.9:1 -- /bin/true 2>&1)
check "proxy override refused" 125 "$?"
check "proxy override message" 1 "$(echo "$err" | grep -c 'HTTPS_PROXY is set by glassbox')"
finish
