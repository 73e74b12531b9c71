//! ezt-compatible `<file>.info` files: per-file settings beside a published file.
//!
//! ezt passed two lines of such a file to BitTorrent's programs: `args=` to the `.torrent`
//! maker and `seeder_args=` to the seeder. We read the options of theirs that mean something
//! here:
//!
//! ```text
//! # comments and blank lines are ignored
//! args=--piece_size_pow2 18 --comment "Release 1.0" --private
//! args=--announce_list 'http://a/announce,http://b/announce|udp://c:6969' --webseed http://w/
//! seeder_args=--max_upload_rate 50 --max_uploads 4
//! ```
//!
//! - `args`: `--piece_size_pow2 N` (piece length 2^N, N from 14 to 24), `--comment TEXT`,
//!   `--private` (or `--private 1` / `--private 0`), `--webseed URL` (repeatable; http or
//!   https), `--announce_list LIST` (tiers separated by `|`, URLs in a tier by `,`; http, https
//!   or udp), `--tracker URL` (repeatable, a tier each).
//! - `seeder_args`: `--max_upload_rate N` (kB/s, that is N × 1024 bytes per second; 0 means
//!   unlimited) and `--max_uploads N`.
//!
//! Options are written `--name value` (the value is the next word, whatever it is, as
//! BitTorrent read it) or `--name=value`. Values are split as a shell would in
//! simple cases: spaces and tabs separate words, `'...'` groups literally, `"..."` groups with
//! `\"` and `\\` as escapes; a backslash elsewhere is an ordinary character. Quoted parts join
//! the text next to them (`--comment="a b"` is one word).
//!
//! [`parse`] never gives up: everything it does not understand (unknown settings or options,
//! bad values, unterminated quotes, a setting given twice) is a [`Problem`] with its line
//! number, and the rest is still used. A line with an unterminated quote is ignored as a whole.

/// What an `.info` file asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InfoSettings {
    /// `--piece_size_pow2 N`: 2^N bytes.
    pub piece_length: Option<u32>,
    pub comment: Option<String>,
    pub is_private: bool,
    /// `--webseed`, in order.
    pub web_seeds: Vec<String>,
    /// Extra tracker tiers, in order: `--announce_list` tiers and one per `--tracker`.
    pub trackers: Vec<Vec<String>>,
    /// Bytes per second; `None` is unlimited.
    pub max_upload_rate: Option<u32>,
    pub max_uploads: Option<u32>,
}

/// Something in an `.info` file that was not understood; the caller prints
/// `FILE:LINE: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

/// The result of [`parse`]: what was understood, and every problem, by line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub settings: InfoSettings,
    pub problems: Vec<Problem>,
}

const ARGS_KNOWN: &str =
    "--piece_size_pow2, --comment, --private, --webseed, --announce_list, --tracker";
const SEEDER_KNOWN: &str = "--max_upload_rate, --max_uploads";

/// Reads an `.info` file. Pure and total: any bytes give a result, problems included.
pub fn parse(text: &[u8]) -> Parsed {
    let mut out = Parsed::default();
    let mut args: Option<(usize, &str)> = None;
    let mut seeder: Option<(usize, &str)> = None;
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let raw = if i == 0 {
            raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw)
        } else {
            raw
        };
        let Ok(s) = std::str::from_utf8(raw) else {
            out.problem(line, "not valid UTF-8".into());
            continue;
        };
        let t = s.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let Some((key, value)) = t.split_once('=') else {
            out.problem(line, "expected args=... or seeder_args=...".into());
            continue;
        };
        let slot = match key.trim() {
            "args" => &mut args,
            "seeder_args" => &mut seeder,
            other => {
                out.problem(
                    line,
                    format!("unknown setting {other} (we understand args and seeder_args)"),
                );
                continue;
            }
        };
        if let Some((earlier, _)) = *slot {
            out.problem(
                line,
                format!(
                    "{} given again: this line replaces line {earlier}",
                    key.trim()
                ),
            );
        }
        *slot = Some((line, value));
    }
    if let Some((line, value)) = args {
        if let Some(words) = out.split(line, value, "args") {
            out.args(line, words);
        }
    }
    if let Some((line, value)) = seeder {
        if let Some(words) = out.split(line, value, "seeder_args") {
            out.seeder_args(line, words);
        }
    }
    out.problems.sort_by_key(|p| p.line);
    out
}

/// Why a value could not be split into words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SplitError {
    /// The quote character that is never closed.
    Unterminated(char),
}

/// Splits `s` into words: see the module documentation.
fn split_words(s: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => return Err(SplitError::Unterminated('\'')),
                        Some('\'') => break,
                        Some(c) => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => return Err(SplitError::Unterminated('"')),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            None => return Err(SplitError::Unterminated('"')),
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        Some(c) => word.push(c),
                    }
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// `u` starts with one of `schemes` (ASCII case ignored), has something after it, and holds
/// no whitespace or control character.
fn url_ok(u: &str, schemes: &[&str]) -> bool {
    let scheme = schemes.iter().any(|s| {
        u.len() > s.len()
            && u.get(..s.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(s))
    });
    scheme && !u.chars().any(|c| c.is_whitespace() || c.is_control())
}

const WEB: &[&str] = &["http://", "https://"];
const TRACKER: &[&str] = &["http://", "https://", "udp://"];

/// One option from a word list: its name, and its `=value` if it had one.
struct Opt {
    name: String,
    inline: Option<String>,
}

/// The words of one setting, read option by option.
struct Words {
    words: std::iter::Peekable<std::vec::IntoIter<String>>,
}

impl Words {
    /// The next option, or a word that is not an option (`Err`).
    fn next_opt(&mut self) -> Option<Result<Opt, String>> {
        let w = self.words.next()?;
        let Some(opt) = w.strip_prefix("--") else {
            return Some(Err(w));
        };
        Some(Ok(match opt.split_once('=') {
            Some((n, v)) => Opt {
                name: n.to_owned(),
                inline: Some(v.to_owned()),
            },
            None => Opt {
                name: opt.to_owned(),
                inline: None,
            },
        }))
    }

    /// The value of `opt`: its `=value`, else the next word.
    fn value(&mut self, opt: &mut Opt) -> Option<String> {
        opt.inline.take().or_else(|| self.words.next())
    }

    /// Takes the next word if it is not an option (the value of an option we do not know).
    fn skip_value(&mut self, opt: &Opt) {
        if opt.inline.is_none() && self.words.peek().is_some_and(|w| !w.starts_with("--")) {
            self.words.next();
        }
    }

    /// Takes the next word if `f` accepts it.
    fn next_if(&mut self, f: impl FnOnce(&str) -> bool) -> Option<String> {
        self.words.next_if(|w| f(w))
    }
}

impl Parsed {
    fn problem(&mut self, line: usize, message: String) {
        self.problems.push(Problem { line, message });
    }

    /// The words of a setting's value, or `None` (and a problem).
    fn split(&mut self, line: usize, value: &str, setting: &str) -> Option<Words> {
        match split_words(value) {
            Ok(w) => Some(Words {
                words: w.into_iter().peekable(),
            }),
            Err(SplitError::Unterminated(q)) => {
                self.problem(
                    line,
                    format!("unterminated {q} quote in {setting}: the line is ignored"),
                );
                None
            }
        }
    }

    /// The option, or `None` and a problem for a word that is not an option.
    fn expect_opt(&mut self, line: usize, w: Result<Opt, String>, setting: &str) -> Option<Opt> {
        match w {
            Ok(o) => Some(o),
            Err(w) => {
                self.problem(
                    line,
                    format!("unexpected argument {w} in {setting} (options start with --)"),
                );
                None
            }
        }
    }

    /// The value of `opt`, or `None` and a problem.
    fn value_of(
        &mut self,
        line: usize,
        words: &mut Words,
        opt: &mut Opt,
        setting: &str,
    ) -> Option<String> {
        let v = words.value(opt);
        if v.is_none() {
            self.problem(
                line,
                format!("missing value for --{} in {setting}", opt.name),
            );
        }
        v
    }

    /// Checks a tracker URL for `--tracker` or `--announce_list`.
    fn tracker_url(&mut self, line: usize, opt: &str, u: &str) -> bool {
        let ok = url_ok(u, TRACKER);
        if !ok {
            self.problem(
                line,
                format!("--{opt} in args: {u} is not an http://, https:// or udp:// URL"),
            );
        }
        ok
    }

    fn args(&mut self, line: usize, mut words: Words) {
        const S: &str = "args";
        while let Some(w) = words.next_opt() {
            let Some(mut opt) = self.expect_opt(line, w, S) else {
                continue;
            };
            match opt.name.as_str() {
                "private" => {
                    let v = opt
                        .inline
                        .take()
                        .or_else(|| words.next_if(|w| w == "0" || w == "1"));
                    match v.as_deref() {
                        None | Some("1") => self.settings.is_private = true,
                        Some("0") => self.settings.is_private = false,
                        Some(v) => self.problem(
                            line,
                            format!("--private {v} in args: expected 0 or 1 (or nothing)"),
                        ),
                    }
                }
                "piece_size_pow2" => {
                    let Some(v) = self.value_of(line, &mut words, &mut opt, S) else {
                        continue;
                    };
                    match v.parse::<u32>() {
                        Ok(n @ 14..=24) => self.settings.piece_length = Some(1 << n),
                        _ => self.problem(
                            line,
                            format!(
                                "--piece_size_pow2 {v} in args: expected 14 to 24 \
                                 (16 KiB to 16 MiB pieces)"
                            ),
                        ),
                    }
                }
                "comment" => {
                    if let Some(v) = self.value_of(line, &mut words, &mut opt, S) {
                        self.settings.comment = Some(v);
                    }
                }
                "webseed" => {
                    let Some(v) = self.value_of(line, &mut words, &mut opt, S) else {
                        continue;
                    };
                    if url_ok(&v, WEB) {
                        self.settings.web_seeds.push(v);
                    } else {
                        self.problem(
                            line,
                            format!("--webseed in args: {v} is not an http:// or https:// URL"),
                        );
                    }
                }
                "tracker" => {
                    let Some(v) = self.value_of(line, &mut words, &mut opt, S) else {
                        continue;
                    };
                    if self.tracker_url(line, "tracker", &v) {
                        self.settings.trackers.push(vec![v]);
                    }
                }
                "announce_list" => {
                    let Some(v) = self.value_of(line, &mut words, &mut opt, S) else {
                        continue;
                    };
                    let mut any = false;
                    for tier in v.split('|') {
                        let mut urls = Vec::new();
                        for u in tier.split(',').map(str::trim).filter(|u| !u.is_empty()) {
                            any = true;
                            if self.tracker_url(line, "announce_list", u) {
                                urls.push(u.to_owned());
                            }
                        }
                        if !urls.is_empty() {
                            self.settings.trackers.push(urls);
                        }
                    }
                    if !any {
                        self.problem(line, "--announce_list in args has no URL".into());
                    }
                }
                other => {
                    self.problem(
                        line,
                        format!("unknown option --{other} in args (we understand {ARGS_KNOWN})"),
                    );
                    words.skip_value(&opt);
                }
            }
        }
    }

    fn seeder_args(&mut self, line: usize, mut words: Words) {
        const S: &str = "seeder_args";
        while let Some(w) = words.next_opt() {
            let Some(mut opt) = self.expect_opt(line, w, S) else {
                continue;
            };
            match opt.name.as_str() {
                "max_upload_rate" => {
                    let Some(v) = self.value_of(line, &mut words, &mut opt, S) else {
                        continue;
                    };
                    match v.parse::<u32>().map(|n| n.checked_mul(1024)) {
                        Ok(Some(0)) => self.settings.max_upload_rate = None,
                        Ok(Some(b)) => self.settings.max_upload_rate = Some(b),
                        _ => self.problem(
                            line,
                            format!(
                                "--max_upload_rate {v} in seeder_args: expected kB/s \
                                 from 0 (unlimited) to 4194303"
                            ),
                        ),
                    }
                }
                "max_uploads" => {
                    let Some(v) = self.value_of(line, &mut words, &mut opt, S) else {
                        continue;
                    };
                    match v.parse::<u32>() {
                        Ok(n) if n > 0 => self.settings.max_uploads = Some(n),
                        _ => self.problem(
                            line,
                            format!("--max_uploads {v} in seeder_args: expected a number above 0"),
                        ),
                    }
                }
                other => {
                    self.problem(
                        line,
                        format!(
                            "unknown option --{other} in seeder_args (we understand {SEEDER_KNOWN})"
                        ),
                    );
                    words.skip_value(&opt);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> InfoSettings {
        let p = parse(text.as_bytes());
        assert_eq!(p.problems, [], "{text}");
        p.settings
    }

    /// The problems of `text` as `LINE: message`.
    fn problems(text: &[u8]) -> Vec<String> {
        parse(text)
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.line, p.message))
            .collect()
    }

    fn words(s: &str) -> Result<Vec<String>, SplitError> {
        split_words(s)
    }

    #[test]
    fn empty_comments_and_blank_lines() {
        assert_eq!(parse(b""), Parsed::default());
        assert_eq!(
            parse(b"\n# args=--private\n   \n\t# x\r\n\r\n"),
            Parsed::default()
        );
        assert_eq!(settings("args="), InfoSettings::default());
        assert_eq!(settings("seeder_args=  "), InfoSettings::default());
    }

    #[test]
    fn manual_examples() {
        assert_eq!(
            settings("args=--piece_size_pow2 16").piece_length,
            Some(65536)
        );
        // The manual's seeder example: --snub_time means nothing here, and its value is
        // skipped with it.
        let p = parse(b"seeder_args=--max_upload_rate 50 --snub_time 15");
        assert_eq!(p.settings.max_upload_rate, Some(50 * 1024));
        assert_eq!(
            problems(b"seeder_args=--max_upload_rate 50 --snub_time 15"),
            ["1: unknown option --snub_time in seeder_args \
(we understand --max_upload_rate, --max_uploads)"]
        );
    }

    #[test]
    fn every_args_option() {
        let s = settings(
            "\u{feff}# a file\r\n\
             args=--piece_size_pow2 14 --comment \"Release 1.0\" --private \
             --webseed http://w/1/ --webseed=HTTPS://w/2/ \
             --announce_list 'http://a/ann, udp://b:6969|https://c/ann' \
             --tracker udp://d:1 --tracker=http://e/\r\n\
             seeder_args=--max_uploads=4 --max_upload_rate=100\r\n",
        );
        assert_eq!(
            s,
            InfoSettings {
                piece_length: Some(16384),
                comment: Some("Release 1.0".into()),
                is_private: true,
                web_seeds: vec!["http://w/1/".into(), "HTTPS://w/2/".into()],
                trackers: vec![
                    vec!["http://a/ann".into(), "udp://b:6969".into()],
                    vec!["https://c/ann".into()],
                    vec!["udp://d:1".into()],
                    vec!["http://e/".into()],
                ],
                max_upload_rate: Some(102400),
                max_uploads: Some(4),
            }
        );
    }

    #[test]
    fn piece_size_pow2() {
        assert_eq!(
            settings("args=--piece_size_pow2=24").piece_length,
            Some(16 << 20)
        );
        for bad in ["13", "25", "0", "-1", "x", "", "99999999999"] {
            let text = format!("args=--piece_size_pow2 '{bad}'");
            let p = parse(text.as_bytes());
            assert_eq!(p.settings.piece_length, None, "{bad}");
            assert_eq!(
                problems(text.as_bytes()),
                [format!(
                    "1: --piece_size_pow2 {bad} in args: expected 14 to 24 (16 KiB to 16 MiB pieces)"
                )]
            );
        }
        assert_eq!(
            problems(b"args=--piece_size_pow2"),
            ["1: missing value for --piece_size_pow2 in args"]
        );
    }

    #[test]
    fn private() {
        assert!(settings("args=--private").is_private);
        assert!(settings("args=--private 1").is_private);
        assert!(settings("args=--private=1").is_private);
        assert!(!settings("args=--private 0").is_private);
        assert!(!settings("args=--private 1 --private=0").is_private);
        assert!(settings("args=--private --comment x").is_private);
        // A word after --private that is not 0 or 1 is not its value.
        assert_eq!(
            problems(b"args=--private yes"),
            ["1: unexpected argument yes in args (options start with --)"]
        );
        assert_eq!(
            problems(b"args=--private=yes"),
            ["1: --private yes in args: expected 0 or 1 (or nothing)"]
        );
    }

    #[test]
    fn comment() {
        assert_eq!(
            settings("args=--comment first --comment=second")
                .comment
                .as_deref(),
            Some("second")
        );
        // The value is the next word, whatever it is (as BitTorrent read it).
        let s = settings("args=--comment --private");
        assert_eq!(s.comment.as_deref(), Some("--private"));
        assert!(!s.is_private);
        let p = parse(b"args=--private --comment");
        assert!(p.settings.is_private);
        assert_eq!(p.settings.comment, None);
        assert_eq!(
            problems(b"args=--private --comment"),
            ["1: missing value for --comment in args"]
        );
    }

    #[test]
    fn url_checks() {
        assert_eq!(
            problems(b"args=--webseed ftp://w/ --webseed http:// --webseed udp://x"),
            [
                "1: --webseed in args: ftp://w/ is not an http:// or https:// URL",
                "1: --webseed in args: http:// is not an http:// or https:// URL",
                "1: --webseed in args: udp://x is not an http:// or https:// URL",
            ]
        );
        assert_eq!(
            problems(b"args=--tracker 'http://a b' --tracker=/x --webseed"),
            [
                "1: --tracker in args: http://a b is not an http://, https:// or udp:// URL",
                "1: --tracker in args: /x is not an http://, https:// or udp:// URL",
                "1: missing value for --webseed in args",
            ]
        );
        let p = parse(b"args=--announce_list 'http://a/,ws://b/||,udp://c:1,'");
        assert_eq!(
            p.settings.trackers,
            [vec!["http://a/".to_string()], vec!["udp://c:1".to_string()]]
        );
        assert_eq!(
            problems(b"args=--announce_list 'http://a/,ws://b/||,udp://c:1,'"),
            ["1: --announce_list in args: ws://b/ is not an http://, https:// or udp:// URL"]
        );
        assert_eq!(
            problems(b"args=--announce_list '|,'"),
            ["1: --announce_list in args has no URL"]
        );
        assert_eq!(
            problems(b"args=--announce_list"),
            ["1: missing value for --announce_list in args"]
        );
    }

    #[test]
    fn seeder_options() {
        assert_eq!(
            settings("seeder_args=--max_upload_rate 0").max_upload_rate,
            None
        );
        assert_eq!(
            settings("seeder_args=--max_upload_rate 4194303").max_upload_rate,
            Some(4194303 * 1024)
        );
        assert_eq!(
            problems(b"seeder_args=--max_upload_rate 4194304 --max_upload_rate x"),
            [
                "1: --max_upload_rate 4194304 in seeder_args: expected kB/s from 0 (unlimited) to 4194303",
                "1: --max_upload_rate x in seeder_args: expected kB/s from 0 (unlimited) to 4194303",
            ]
        );
        assert_eq!(
            problems(b"seeder_args=--max_uploads 0 --max_uploads=-1 --max_uploads"),
            [
                "1: --max_uploads 0 in seeder_args: expected a number above 0",
                "1: --max_uploads -1 in seeder_args: expected a number above 0",
                "1: missing value for --max_uploads in seeder_args",
            ]
        );
        // args options are not seeder options, and the other way round.
        assert_eq!(
            problems(b"seeder_args=--private\nargs=--max_uploads=3 --minport 1 --x"),
            [
                "1: unknown option --private in seeder_args \
(we understand --max_upload_rate, --max_uploads)",
                "2: unknown option --max_uploads in args (we understand --piece_size_pow2, \
--comment, --private, --webseed, --announce_list, --tracker)",
                "2: unknown option --minport in args (we understand --piece_size_pow2, \
--comment, --private, --webseed, --announce_list, --tracker)",
                "2: unknown option --x in args (we understand --piece_size_pow2, \
--comment, --private, --webseed, --announce_list, --tracker)",
            ]
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(words(""), Ok(vec![]));
        assert_eq!(words(" \t "), Ok(vec![]));
        assert_eq!(
            words(" a  b\tc "),
            Ok(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(words("''"), Ok(vec![String::new()]));
        assert_eq!(words("a'' \"\""), Ok(vec!["a".into(), String::new()]));
        assert_eq!(
            words(r#"--comment="a b"'c "d'"#),
            Ok(vec![r#"--comment=a bc "d"#.into()])
        );
        assert_eq!(
            words(r#""q\"uo\\te\d" 'si\ngle' back\slash"#),
            Ok(vec![
                r#"q"uo\te\d"#.into(),
                r#"si\ngle"#.into(),
                r#"back\slash"#.into()
            ])
        );
        assert_eq!(words("'open"), Err(SplitError::Unterminated('\'')));
        assert_eq!(words("\"open"), Err(SplitError::Unterminated('"')));
        assert_eq!(words("\"open\\\""), Err(SplitError::Unterminated('"')));
        assert_eq!(words("\"end\\"), Err(SplitError::Unterminated('"')));
        assert_eq!(
            settings("args=--comment 'it''s \"here\"'")
                .comment
                .as_deref(),
            Some("its \"here\"")
        );
        assert_eq!(
            settings("args=--comment \"\" --comment=")
                .comment
                .as_deref(),
            Some("")
        );
    }

    #[test]
    fn unterminated_quote_ignores_the_line() {
        let text = b"args=--private --comment 'x\nseeder_args=--max_uploads \"3";
        let p = parse(text);
        assert_eq!(p.settings, InfoSettings::default());
        assert_eq!(
            problems(text),
            [
                "1: unterminated ' quote in args: the line is ignored",
                "2: unterminated \" quote in seeder_args: the line is ignored",
            ]
        );
    }

    #[test]
    fn bad_lines_and_repeats() {
        let text = b"args=--comment one --private\n\
junk\n\
tracker=http://x/\n\
\xff=1\n\
seeder_args=--max_uploads 2\n\
 args = --comment two\n\
seeder_args=--max_uploads 3\n\
args=--comment three --nope\n";
        let p = parse(text);
        // The last args line wins as a whole: no --private.
        assert_eq!(
            p.settings,
            InfoSettings {
                comment: Some("three".into()),
                max_uploads: Some(3),
                ..InfoSettings::default()
            }
        );
        assert_eq!(
            problems(text),
            [
                "2: expected args=... or seeder_args=...",
                "3: unknown setting tracker (we understand args and seeder_args)",
                "4: not valid UTF-8",
                "6: args given again: this line replaces line 1",
                "7: seeder_args given again: this line replaces line 5",
                "8: args given again: this line replaces line 6",
                "8: unknown option --nope in args (we understand --piece_size_pow2, \
--comment, --private, --webseed, --announce_list, --tracker)",
            ]
        );
    }

    #[test]
    fn positional_words() {
        assert_eq!(
            problems(b"args=file.iso http://t/announce --private"),
            [
                "1: unexpected argument file.iso in args (options start with --)",
                "1: unexpected argument http://t/announce in args (options start with --)",
            ]
        );
        assert_eq!(
            problems(b"args=-x -- y"),
            [
                "1: unexpected argument -x in args (options start with --)",
                // y is taken as the unknown option's value.
                "1: unknown option -- in args (we understand --piece_size_pow2, --comment, \
--private, --webseed, --announce_list, --tracker)",
            ]
        );
    }
}
