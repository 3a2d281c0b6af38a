#!/usr/bin/env bash
# Posts a Markdown file as the pull request's strata comment, or updates the one an
# earlier run posted: one comment per pull request, never a second.
#
#   pr-comment.sh BODY_FILE        (env: GH_TOKEN, REPOSITORY, PR_NUMBER; uses `gh api`)
#
# The comment is found by the marker its first line carries and by its author (the
# workflow's bot), so a marker pasted into someone else's comment is never edited.
set -euo pipefail

body_file=$1
marker='<!-- strata-plans -->'
author=${COMMENT_AUTHOR:-github-actions[bot]}
: "${REPOSITORY:?}" "${PR_NUMBER:?}"

# GitHub takes at most 65,536 characters; a longer body is cut, and says so.
body=$(mktemp)
trap 'rm -f "$body"' EXIT
{
  echo "$marker"
  if [ "$(wc -c < "$body_file")" -gt 60000 ]; then
    head -c 60000 "$body_file"
    printf '\n\n_(cut at 60,000 characters: the job summary has all of it)_\n'
  else
    cat "$body_file"
  fi
} > "$body"

existing=$(gh api --paginate "repos/$REPOSITORY/issues/$PR_NUMBER/comments" \
  --jq ".[] | select(.user.login == \"$author\" and (.body | startswith(\"$marker\"))) | .id" \
  | head -n 1)

if [ -n "$existing" ]; then
  gh api --method PATCH "repos/$REPOSITORY/issues/comments/$existing" -F "body=@$body" > /dev/null
  echo "updated comment $existing"
else
  gh api --method POST "repos/$REPOSITORY/issues/$PR_NUMBER/comments" -F "body=@$body" > /dev/null
  echo "posted a new comment"
fi
