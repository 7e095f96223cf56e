# tests/integration/lib/ocsf_lib.sh — where the full official OCSF 1.8.0
# export is (sourced; needs GB_SOURCE_DIR).
#
# ocsf_full_schema sets OCSF_FULL to the export's path: $GB_OCSF_SCHEMA, else
# the shared folder beside the checkout ($GB_SOURCE_DIR/../shared/ocsf/
# schema-1.8.0.json).  A check that skipped quietly would let a mapping that
# breaks the official schema pass, so a missing export is a failure (return
# 1) in CI ($CI set), when GB_OCSF_SCHEMA names it, or when the shared folder
# exists; only when it truly is not there outside CI does the caller skip
# (OCSF_FULL empty, and a line saying so).
ocsf_full_schema() {
	local shared="$GB_SOURCE_DIR/../shared"
	OCSF_FULL=${GB_OCSF_SCHEMA:-$shared/ocsf/schema-1.8.0.json}
	[[ -r $OCSF_FULL ]] && return 0
	if [[ -n ${CI:-} || -n ${GB_OCSF_SCHEMA:-} || -d $shared ]]; then
		echo "FAIL: the official OCSF export is not readable at $OCSF_FULL" \
		     "(CI is set, GB_OCSF_SCHEMA names it, or $shared exists)" >&2
		return 1
	fi
	echo "skip: full OCSF schema check: $OCSF_FULL not found (outside CI); validating against the committed subset only"
	OCSF_FULL=
}
