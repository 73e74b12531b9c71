//! The command lines of `bench` and its subcommands: flags and their values, every error
//! naming the flag it is about.

use std::time::Duration;

/// The arguments (after `bench` or after the subcommand's name), flag by flag. The value
/// parsers read the argument after the last flag [`Flags::next_flag`] gave.
pub struct Flags<'a> {
    it: std::slice::Iter<'a, String>,
    flag: &'a str,
}

impl<'a> Flags<'a> {
    pub fn new(argv: &'a [String]) -> Flags<'a> {
        Flags {
            it: argv.iter(),
            flag: "",
        }
    }

    /// The next flag, `None` at the end.
    pub fn next_flag(&mut self) -> Option<&'a str> {
        self.flag = self.it.next()?;
        Some(self.flag)
    }

    /// The flag's value: "FLAG needs a value" if there is none.
    pub fn value(&mut self) -> Result<String, String> {
        self.it
            .next()
            .cloned()
            .ok_or_else(|| format!("{} needs a value", self.flag))
    }

    /// The value as a whole number from `lo` to `hi` (see [`num`]).
    pub fn num(&mut self, lo: u64, hi: u64) -> Result<u64, String> {
        num(self.flag, &self.value()?, lo, hi)
    }

    /// The value as comma-separated whole numbers, each from `lo` to `hi`, in their order.
    pub fn nums(&mut self, lo: u64, hi: u64) -> Result<Vec<u64>, String> {
        let v = self.value()?;
        v.split(',').map(|n| num(self.flag, n, lo, hi)).collect()
    }

    /// The value as any whole number (see [`whole`]).
    pub fn whole(&mut self) -> Result<u64, String> {
        whole(self.flag, &self.value()?)
    }

    /// The value as seconds from 0 to `max`.
    pub fn secs(&mut self, max: u32) -> Result<Duration, String> {
        let v = self.value()?;
        secs(v.parse().ok().filter(|s| *s >= 0.0), max)
            .ok_or(format!("{}: expected seconds (0 to {max}): {v}", self.flag))
    }

    /// The value as seconds above 0, up to `max`.
    pub fn positive_secs(&mut self, max: u32) -> Result<Duration, String> {
        let v = self.value()?;
        secs(v.parse().ok().filter(|s| *s > 0.0), max).ok_or(format!(
            "{}: expected seconds (above 0, up to {max}): {v}",
            self.flag
        ))
    }
}

/// `v` (underscores allowed, as in `100_000`) as a whole number from `lo` to `hi`, or
/// "FLAG: expected a whole number from LO to HI: V".
pub fn num(flag: &str, v: &str, lo: u64, hi: u64) -> Result<u64, String> {
    v.replace('_', "")
        .parse::<u64>()
        .ok()
        .filter(|n| (lo..=hi).contains(n))
        .ok_or(format!(
            "{flag}: expected a whole number from {lo} to {hi}: {v}"
        ))
}

/// `v` (underscores allowed) as a whole number, or "FLAG: not a whole number: V".
pub fn whole(flag: &str, v: &str) -> Result<u64, String> {
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: not a whole number: {v}"))
}

/// `s` seconds, if at most `max`.
fn secs(s: Option<f64>, max: u32) -> Option<Duration> {
    s.filter(|s| *s <= f64::from(max))
        .map(Duration::from_secs_f64)
}

/// A command line written as one string, split at white space (for tests).
pub fn split(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_their_errors() {
        let argv = split("--n 1_000 --list 1,20 --s 2.5 --p 0 --missing");
        let mut f = Flags::new(&argv);
        assert_eq!(f.next_flag(), Some("--n"));
        assert_eq!(f.num(1, 1000), Ok(1000));
        assert_eq!(f.next_flag(), Some("--list"));
        assert_eq!(
            f.nums(1, 10),
            Err("--list: expected a whole number from 1 to 10: 20".into())
        );
        assert_eq!(f.next_flag(), Some("--s"));
        assert_eq!(f.secs(3600), Ok(Duration::from_millis(2500)));
        assert_eq!(f.next_flag(), Some("--p"));
        assert_eq!(
            f.positive_secs(60),
            Err("--p: expected seconds (above 0, up to 60): 0".into())
        );
        assert_eq!(f.next_flag(), Some("--missing"));
        assert_eq!(f.value(), Err("--missing needs a value".into()));
        assert_eq!(f.next_flag(), None);
        assert_eq!(whole("--w", "x"), Err("--w: not a whole number: x".into()));
        assert_eq!(
            num("--m", "-1", 0, 5),
            Err("--m: expected a whole number from 0 to 5: -1".into())
        );
    }
}
