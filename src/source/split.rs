//! Splitting a file into statements with sqlparser's tokenizer.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use super::{Problem, SourceFile};

/// A token reduced to what classification needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A word: `name` is how PostgreSQL folds it (lower case unless quoted).
    Word {
        name: String,
        quoted: bool,
    },
    LParen,
    RParen,
    Comma,
    Period,
    Backslash,
    /// A string literal's value.
    Str(String),
    Other,
}

impl Tok {
    /// Whether this is the unquoted keyword `kw` (given in upper case).
    pub(crate) fn is(&self, kw: &str) -> bool {
        matches!(self, Tok::Word { name, quoted: false } if name.eq_ignore_ascii_case(kw))
    }
}

/// A statement's extent in its file and its significant tokens.
pub(crate) struct Piece {
    pub offset: usize,
    pub end: usize,
    pub tokens: Vec<Tok>,
}

/// Byte offsets of line starts, to turn tokenizer locations into offsets. Locations come
/// in increasing order, so a cursor walks forward from the last one: linear in the file.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// The last location turned into an offset: (line, column, byte offset).
    cursor: std::cell::Cell<(usize, usize, usize)>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            text,
            starts,
            cursor: std::cell::Cell::new((1, 1, 0)),
        }
    }

    fn offset(&self, loc: Location) -> usize {
        let line = usize::try_from(loc.line).unwrap_or(1).max(1);
        let Some(&start) = self.starts.get(line - 1) else {
            return self.text.len();
        };
        let column = usize::try_from(loc.column).unwrap_or(1).max(1);
        let (from_column, from) = match self.cursor.get() {
            (l, c, at) if l == line && c <= column => (c, at),
            _ => (1, start),
        };
        let offset = self.text[from..]
            .char_indices()
            .nth(column - from_column)
            .map_or(self.text.len(), |(i, _)| from + i);
        self.cursor.set((line, column, offset));
        offset
    }

    fn line_end(&self, offset: usize) -> usize {
        self.text[offset..]
            .find('\n')
            .map_or(self.text.len(), |i| offset + i)
    }
}

fn reduce(token: &Token) -> Option<Tok> {
    Some(match token {
        Token::Whitespace(_) => return None,
        Token::Word(w) => Tok::Word {
            name: if w.quote_style.is_some() {
                w.value.clone()
            } else {
                w.value.to_lowercase()
            },
            quoted: w.quote_style.is_some(),
        },
        Token::LParen => Tok::LParen,
        Token::RParen => Tok::RParen,
        Token::Comma => Tok::Comma,
        Token::Period => Tok::Period,
        Token::Backslash => Tok::Backslash,
        Token::SingleQuotedString(s) | Token::EscapedStringLiteral(s) => Tok::Str(s.clone()),
        _ => Tok::Other,
    })
}

/// Splits a file at top-level semicolons. A `BEGIN ATOMIC ... END` body (with any `CASE ...
/// END` inside it) is one statement; a psql meta-command (`\...`) runs to the end of its line.
pub(crate) fn split(file: &SourceFile) -> Result<Vec<Piece>, Problem> {
    let dialect = PostgreSqlDialect {};
    let tokens: Vec<TokenWithSpan> = Tokenizer::new(&dialect, &file.text)
        .tokenize_with_location()
        .map_err(|e| Problem {
            file: file.name.clone(),
            line: usize::try_from(e.location.line).unwrap_or(0),
            column: usize::try_from(e.location.column).unwrap_or(0),
            message: format!("cannot tokenize: {}", e.message),
        })?;
    let lines = Lines::new(&file.text);
    let mut pieces = Vec::new();
    let mut current: Option<Piece> = None;
    let mut atomic_depth = 0usize;
    let mut case_depth = 0usize;
    let mut meta_line_end: Option<usize> = None;
    for (i, token) in tokens.iter().enumerate() {
        let start = lines.offset(token.span.start);
        if let Some(end) = meta_line_end {
            if start < end {
                continue;
            }
            meta_line_end = None;
        }
        let Some(tok) = reduce(&token.token) else {
            continue;
        };
        if token.token == Token::SemiColon && atomic_depth == 0 {
            if let Some(mut piece) = current.take() {
                piece.end = start + 1;
                pieces.push(piece);
            }
            continue;
        }
        let piece = current.get_or_insert_with(|| Piece {
            offset: start,
            end: start,
            tokens: Vec::new(),
        });
        if piece.tokens.is_empty() && tok == Tok::Backslash {
            let end = lines.line_end(start);
            pieces.push(Piece {
                offset: start,
                end,
                tokens: vec![Tok::Backslash],
            });
            current = None;
            meta_line_end = Some(end);
            continue;
        }
        if tok.is("BEGIN") && next_word_is(&tokens[i + 1..], "ATOMIC") {
            atomic_depth += 1;
        } else if tok.is("CASE") && atomic_depth > 0 {
            case_depth += 1;
        } else if tok.is("END") && atomic_depth > 0 {
            if case_depth > 0 {
                case_depth -= 1;
            } else {
                atomic_depth -= 1;
            }
        }
        piece.end = lines.offset(token.span.end).max(start + 1);
        piece.tokens.push(tok);
    }
    if let Some(mut piece) = current {
        piece.end = file
            .text
            .trim_end()
            .len()
            .max(piece.end)
            .min(file.text.len());
        pieces.push(piece);
    }
    Ok(pieces)
}

fn next_word_is(rest: &[TokenWithSpan], kw: &str) -> bool {
    rest.iter()
        .filter_map(|t| reduce(&t.token))
        .next()
        .is_some_and(|t| t.is(kw))
}
