//! A recipe body read the way a POSIX shell splits it into simple commands and words, just far
//! enough to see which machines it names: quotes are removed, and a word whose value the shell
//! (or just) computes — `$x`, `$(…)`, a backtick, a glob, a `{{…}}` interpolation just leaves
//! unknown — is marked as not literal. Nothing is expanded or run.

/// One word of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word with its quotes removed.
    pub text: String,
    /// False when some part of the word is computed when the recipe runs.
    pub literal: bool,
}

/// The simple commands of `body` (words between `;`, `&`, `|`, parentheses, redirections and
/// newlines), each with its words. Comments are dropped; a backslash-newline joins two lines.
/// Bounded by the body's length: one pass over its characters.
pub fn commands(body: &str) -> Vec<Vec<Word>> {
    let mut out: Vec<Vec<Word>> = Vec::new();
    let mut current: Vec<Word> = Vec::new();
    let mut word: Option<Word> = None;
    let mut chars = body.chars().peekable();
    // `{{` opens an interpolation just could not resolve (a parameter, a computed variable).
    let mut last = '\0';
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(e) => push(&mut word, e, true),
            },
            '\'' => {
                let w = word.get_or_insert_with(empty);
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    w.text.push(q);
                }
                w.literal &= !w.text.contains("{{");
            }
            '"' => {
                let w = word.get_or_insert_with(empty);
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => match chars.peek() {
                            Some(&e @ ('"' | '\\' | '$' | '`')) => {
                                chars.next();
                                w.text.push(e);
                            }
                            Some('\n') => {
                                chars.next();
                            }
                            _ => w.text.push('\\'),
                        },
                        '$' | '`' => {
                            w.literal = false;
                            w.text.push(q);
                        }
                        _ => w.text.push(q),
                    }
                }
                w.literal &= !w.text.contains("{{");
            }
            '#' if word.is_none() => {
                // A comment runs to the end of the line.
                for q in chars.by_ref() {
                    if q == '\n' {
                        break;
                    }
                }
                end_word(&mut word, &mut current);
                end_command(&mut current, &mut out);
            }
            ' ' | '\t' | '\r' => end_word(&mut word, &mut current),
            '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>' => {
                end_word(&mut word, &mut current);
                end_command(&mut current, &mut out);
            }
            '$' | '`' | '*' | '?' | '[' => push(&mut word, c, false),
            '{' if last == '{' => {
                push(&mut word, c, false);
            }
            _ => push(&mut word, c, true),
        }
        last = c;
    }
    end_word(&mut word, &mut current);
    end_command(&mut current, &mut out);
    out
}

fn empty() -> Word {
    Word {
        text: String::new(),
        literal: true,
    }
}

fn push(word: &mut Option<Word>, c: char, literal: bool) {
    let w = word.get_or_insert_with(empty);
    w.text.push(c);
    w.literal &= literal;
}

fn end_word(word: &mut Option<Word>, current: &mut Vec<Word>) {
    if let Some(w) = word.take() {
        current.push(w);
    }
}

fn end_command(current: &mut Vec<Word>, out: &mut Vec<Vec<Word>>) {
    if !current.is_empty() {
        out.push(std::mem::take(current));
    }
}

/// Whether `name` could be a machine name as it appears in a command: letters, digits, `-`,
/// `_` and `.` only. Anything else (a path, an option value, `a=b`) is not read as a name.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
