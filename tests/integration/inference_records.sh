#!/usr/bin/env bash
# inference.local records: every request an OCSF API Activity (6003) with
# the ai_operation profile (ai_model: provider, model), status, latency,
# time to first byte, request/response bytes and the provider's token
# counts, valid against the official OCSF 1.8.0 export; refusals (no route,
# an unsupported path) recorded as Denied.  The credential appears in no
# record, event, log line or file the run produced.
#
#   gbc$$: glassbox proxy 127.0.0.1:3128 --inference    gbu$$: 198.18.0.10:8080 (openai)
#          --ring, --tls-dir; curl clients                      198.18.0.10:8081 (anthropic)
. "$(dirname "$0")/lib/netns_lib.sh"
. "$(dirname "$0")/lib/ocsf_lib.sh"
ocsf_full_schema || exit 1
provider_key sk-rec
provider 8080 openai
provider 8081 anthropic
wait_tcp "$UNS" 198.18.0.10 8080
wait_tcp "$UNS" 198.18.0.10 8081
echo "198.18.0.10 openai.test anthropic.test" >"$tmp/hosts"
printf 'version: 1\nnetwork_policies: {}\n' >"$tmp/policy.yaml"
route() { # TYPE PORT
	printf '{"provider":"%s-test","type":"%s","base_url":"http://%s.test:%s","credential_file":"%s","model":"host-%s","timeout_ms":5000}\n' \
		"$1" "$1" "$1" "$2" "$tmp/key" "$1" >"$tmp/route.json"
}
P=127.0.0.1:3128
start_proxy() { # [ROUTE]
	mkdir -p "$tmp/tls"
	bg "$CNS" "$GLASSBOX" proxy --policy "$tmp/policy.yaml" --listen $P --hosts "$tmp/hosts" \
		--ring "$tmp/events.ring" --tls-dir "$tmp/tls" ${1:+--inference "$1"} 2>>"$tmp/proxy.log"
	PX=$!
	wait_tcp "$CNS" 127.0.0.1 3128
}
stop_proxy() { kill "$PX"; wait "$PX" 2>/dev/null || true; }
B=$tmp/tls/ca-bundle.pem

# no route at all
start_proxy
code=$(C curl -sS -m 10 --proxy $P --cacert "$B" -o "$tmp/noroute.json" -w '%{http_code}' \
	https://inference.local/v1/chat/completions -d '{}')
[[ $code == 503 ]] || fail "no route: $code"
stop_proxy

route openai 8080
start_proxy "$tmp/route.json"
C curl -sS -m 10 --proxy $P --cacert "$B" -o "$tmp/chat.json" -H "Authorization: Bearer caller-key" \
	https://inference.local/v1/chat/completions -H 'content-type: application/json' -d '{"model":"a","messages":[]}' \
	|| fail "chat"
C curl -sS -m 10 --proxy $P --cacert "$B" -N -o "$tmp/stream.txt" \
	https://inference.local/v1/chat/completions -d '{"model":"a","stream":true,"gb_chunks":4,"gb_gap_ms":20}' || fail "stream"
C curl -sS -m 10 --proxy $P http://inference.local/v1/models -o /dev/null || fail "models"
# curl sends Expect: 100-continue for a body over 1 KiB and waits (here 8 s) for the 100: it must come
head -c 3000 /dev/zero | tr '\0' a | sed 's/.*/{"model":"a","pad":"&"}/' >"$tmp/big.json"
t=$(C curl -sS -m 20 --expect100-timeout 8 --proxy $P -o /dev/null -w '%{time_total}' http://inference.local/v1/embeddings \
	-H 'content-type: application/json' --data-binary @"$tmp/big.json")
awk -v t="$t" 'BEGIN { exit !(t < 7) }' || fail "Expect: 100-continue not answered: $t s"
code=$(C curl -sS -m 10 --proxy $P -o /dev/null -w '%{http_code}' http://inference.local/v1/files)
[[ $code == 404 ]] || fail "unsupported path: $code"
stop_proxy
route anthropic 8081
start_proxy "$tmp/route.json"
C curl -sS -m 10 --proxy $P --cacert "$B" -o "$tmp/msg.json" -H "x-api-key: caller-key" \
	https://inference.local/v1/messages -d '{"model":"a","max_tokens":3,"messages":[]}' || fail "messages"
C curl -sS -m 10 --proxy $P --cacert "$B" -N -o "$tmp/astream.txt" \
	https://inference.local/v1/messages -d '{"model":"a","stream":true,"gb_chunks":3,"gb_gap_ms":10}' || fail "anthropic stream"
stop_proxy
[[ $(jq -r .model "$tmp/msg.json") == host-anthropic ]] || fail "anthropic model: $(cat "$tmp/msg.json")"

"$GB_HELPER_DIR/ring_dump" "$tmp/events.ring" 1000 "$tmp/ocsf.jsonl" >"$tmp/records.jsonl"
python3 "$GB_SOURCE_DIR/tests/ocsf_validate.py" --official "$OCSF_FULL" "$tmp/ocsf.jsonl" || fail "OCSF validation (official 1.8.0)"
python3 "$GB_SOURCE_DIR/tests/ocsf_validate.py" "$tmp/ocsf.jsonl" >/dev/null || fail "OCSF validation (generated schemas)"
python3 - "$tmp/ocsf.jsonl" <<'PY' || fail "OCSF 6003 content"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
api = [e for e in ev if e["class_uid"] == 6003]
assert len(api) == 8, [e["message"] for e in api]
for e in api:
    assert "ai_operation" in e["metadata"]["profiles"], e["metadata"]
    assert e["api"]["operation"].split()[1].startswith("/v1/"), e["api"]
    assert e["actor"]["process"]["file"]["path"].endswith("curl"), e["actor"]
def one(pred, what):
    m = [e for e in api if pred(e)]
    assert len(m) == 1, (what, [x["message"] for x in api])
    return m[0]
noroute = one(lambda e: e["http_response"]["code"] == 503, "no route")
assert noroute["action_id"] == 2 and noroute["api"]["service"]["name"] == "none", noroute
chat = one(lambda e: e["api"]["operation"] == "POST /v1/chat/completions" and not e["unmapped"]["inference"]["stream"]
           and e["http_response"]["code"] == 200, "chat")
assert chat["ai_model"] == {"ai_provider": "openai-test", "name": "host-openai"}, chat["ai_model"]
assert chat["message_context"] == {"service": {"name": "openai-test"}, "prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}, chat.get("message_context")
assert chat["http_request"]["length"] > 0 and chat["http_response"]["length"] > 0, chat
assert chat["unmapped"]["inference"]["ttfb_us"] > 0 and chat["unmapped"]["inference"]["type"] == "openai", chat["unmapped"]
assert chat["action_id"] == 1 and chat["activity_id"] == 1 and chat["http_request"]["url"]["scheme"] == "https", chat
st = one(lambda e: e["api"]["operation"] == "POST /v1/chat/completions" and e["unmapped"]["inference"]["stream"], "stream")
assert st["message_context"]["completion_tokens"] == 4, st.get("message_context")
models = one(lambda e: e["api"]["operation"] == "GET /v1/models", "models")
assert models["activity_id"] == 2 and models["http_request"]["url"]["scheme"] == "http", models
files = one(lambda e: e["api"]["operation"] == "GET /v1/files", "404")
assert files["http_response"]["code"] == 404 and files["action_id"] == 2, files
msg = one(lambda e: e["api"]["operation"] == "POST /v1/messages" and not e["unmapped"]["inference"]["stream"], "messages")
assert msg["ai_model"]["name"] == "host-anthropic" and msg["message_context"]["prompt_tokens"] == 13 \
    and msg["message_context"]["completion_tokens"] == 5, msg
am = one(lambda e: e["api"]["operation"] == "POST /v1/messages" and e["unmapped"]["inference"]["stream"], "anthropic stream")
assert am["message_context"]["prompt_tokens"] == 13 and am["message_context"]["completion_tokens"] == 3, am.get("message_context")
# the connection's Network Activity says who asked, and no policy entry was needed
net = [e for e in ev if e["class_uid"] == 4001 and e["dst_endpoint"].get("hostname") == "inference.local"]
assert net and all(e["action_id"] == 1 for e in net if e["activity_id"] == 1), [e["message"] for e in net]
print(len(api), "API Activity events")
PY
# the provider saw the host key, never the caller's
[[ $(jq -r 'select(.verdict != "ok")' "$tmp/openai.log" "$tmp/anthropic.log" | wc -l) == 0 ]] || fail "provider verdicts"
! grep -q caller-key "$tmp/openai.log" "$tmp/anthropic.log" || fail "the caller's key reached a provider"
# the secret: nowhere but its own file
left=$(grep -rl -- "$SECRET" "$tmp" | grep -v -e "^$tmp/key$" -e "^$tmp/openai.log$" -e "^$tmp/anthropic.log$" || true)
[[ -z $left ]] || fail "the credential is in: $left"
! grep -q -- "$SECRET" "$tmp/events.ring" || fail "credential in the ring"
echo "inference_records: ok"
