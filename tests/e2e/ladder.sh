# ladder.sh - records who sent what to whom, in order, and draws it as a
# ladder diagram in text and in SVG (like the seed document's figure).
# Sourced by the secure-diversion test and demo. Actors are columns in the
# order given to ladder_actors.

LADDER_FILE=${LADDER_FILE:-$WORK/ladder.tsv}

# ladder_actors NAME...: the columns, left to right.
ladder_actors() { local IFS='|'; LADDER_ACTORS="$*"; : >"$LADDER_FILE"; }

# ladder_add FROM TO LABEL: one arrow (FROM and TO are actor names).
ladder_add() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$LADDER_FILE"; }

# ladder_text: the diagram on stdout, 22 columns per actor.
ladder_text() {
  awk -F'\t' -v actors="$LADDER_ACTORS" '
    BEGIN { n = split(actors, a, "|"); w = 22
            for (i = 1; i <= n; i++) { col[a[i]] = (i - 1) * w + int(w / 2) }
            line = ""; for (i = 1; i <= n; i++) line = line sprintf("%-" w "s", center(a[i], w)); print line
            print lifelines() }
    function center(s, width,   pad) { pad = int((width - length(s)) / 2); return sprintf("%" pad "s%s", "", s) }
    function lifelines(   s, i) { s = sprintf("%" (n * w) "s", ""); for (i = 1; i <= n; i++) s = put(s, col[a[i]], "|"); return s }
    function put(s, pos, ch) { return substr(s, 1, pos) ch substr(s, pos + 2) }
    {
      from = col[$1]; to = col[$2]; lo = from < to ? from : to; hi = from < to ? to : from
      row = lifelines()
      for (p = lo + 1; p < hi; p++) row = put(row, p, "-")
      row = from < to ? put(row, hi - 1, ">") : put(row, lo + 1, "<")
      label = $3; start = lo + 2
      if (length(label) > hi - lo - 3) { start = lo + 2 }
      text = lifelines(); text = substr(text, 1, start) label substr(text, start + length(label) + 1)
      print text; print row; print lifelines()
    }' "$LADDER_FILE"
}

# ladder_svg FILE: the same diagram as an SVG picture.
ladder_svg() {
  awk -F'\t' -v actors="$LADDER_ACTORS" '
    function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
    BEGIN { n = split(actors, a, "|"); w = 190; top = 60; step = 34
            for (i = 1; i <= n; i++) x[a[i]] = 100 + (i - 1) * w }
    { from[NR] = $1; to[NR] = $2; label[NR] = $3 }
    END {
      height = top + (NR + 1) * step + 20; width = 100 + (n - 1) * w + 100
      printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", width, height
      print "<defs><marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\"/></marker></defs>"
      printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      for (i = 1; i <= n; i++) {
        printf "<rect x=\"%d\" y=\"10\" width=\"150\" height=\"28\" rx=\"4\" fill=\"#e8eef8\" stroke=\"#335\"/>\n", x[a[i]] - 75
        printf "<text x=\"%d\" y=\"29\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n", x[a[i]], esc(a[i])
        printf "<line x1=\"%d\" y1=\"38\" x2=\"%d\" y2=\"%d\" stroke=\"#889\" stroke-dasharray=\"4,3\"/>\n", x[a[i]], x[a[i]], height - 10
      }
      for (k = 1; k <= NR; k++) {
        y = top + k * step
        printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#123\" marker-end=\"url(#arrow)\"/>\n", x[from[k]], y, x[to[k]], y
        mid = (x[from[k]] + x[to[k]]) / 2
        printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", mid, y - 5, esc(label[k])
      }
      print "</svg>"
    }' "$LADDER_FILE" >"$1"
}
