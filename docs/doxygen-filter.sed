# Doxygen input filter (docs/Doxyfile.in): shows the headers' plain // comments to Doxygen as
# documentation, without changing the headers. Line numbers are kept, so warnings point at the
# right line of the real file.
#
# 1. The opening comment (every header starts with a line on its role, then `#pragma once`)
#    documents the file: its lines become /// and `#pragma once` becomes `/// \file`.
1,/^#pragma once/{
  s|^//( ?)|///\1|
  s|^#pragma once[[:space:]]*$|/// \\file|
  b
}
# 2. fmt::formatter<Tensor> (what lets fmt::print format a Tensor) is specialised from outside
#    namespace fmt, which Doxygen cannot place: it is blanked, line for line.
/^template <>$/{
  N
  /\nstruct fmt::formatter</{
    :formatter
    /\n};$/!{
      N
      b formatter
    }
    s@[^\n]@@g
  }
}
# 3. Section rulers (`// ---- metadata ----`) stay plain comments, or they would document the
#    declaration after them.
/^[[:space:]]*\/\/ *-{3,}/b
# 4. A comment on lines of its own documents the declaration below it.
s@^([[:space:]]*)//( |$)@\1///\2@
# 5. A comment after a member, enumerator or function declaration on its line documents that
#    declaration. Only for code with no '/' or '"' (no division, URL or string to mistake for a
#    comment) that ends in ';' or ','.
s@^([[:space:]]*[^[:space:]/"}#][^/"]*[;,])([[:space:]]+)//( .*)$@\1\2///<\3@
