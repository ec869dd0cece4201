//! `cron=` schedules, in the syntax the Go supervisord takes (robfig/cron with seconds): six
//! fields `second minute hour day-of-month month day-of-week`, or the five of classic cron
//! (second 0), or a descriptor (`@hourly`, `@every 1m30s`, …). Times are the daemon's local
//! time; a time that does not exist (a DST gap) is skipped.

use std::time::Duration;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// At the times whose fields all match.
    Fields(Fields),
    /// Every interval, counted from when the daemon loaded the config.
    Every(Duration),
}

/// One bit per allowed value of each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    second: u64,
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    /// Day-of-month or day-of-week was `*`/`?`: then both must match, else either (as cron).
    dom_any: bool,
    dow_any: bool,
}

struct Range {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const SECOND: Range = Range {
    name: "second",
    min: 0,
    max: 59,
    names: &[],
};
const MINUTE: Range = Range {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Range = Range {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Range = Range {
    name: "day of month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Range = Range {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const DOW: Range = Range {
    name: "day of week",
    min: 0,
    max: 7,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

impl Schedule {
    pub fn parse(s: &str) -> Result<Schedule, String> {
        let s = s.trim();
        if let Some(d) = s.strip_prefix('@') {
            return descriptor(d);
        }
        let fields: Vec<&str> = s.split_whitespace().collect();
        let (sec, rest) = match fields.len() {
            6 => (fields[0], &fields[1..]),
            5 => ("0", &fields[..]),
            n => {
                return Err(format!(
                    "expected 6 fields (second minute hour day-of-month month day-of-week), 5 (without seconds) or a descriptor such as @hourly or @every 30s; got {n}"
                ));
            }
        };
        let dom_any = matches!(rest[2], "*" | "?");
        let dow_any = matches!(rest[4], "*" | "?");
        let mut dow = field(rest[4], &DOW)?;
        // 7 is Sunday too.
        if dow & (1 << 7) != 0 {
            dow = (dow | 1) & !(1 << 7);
        }
        Ok(Schedule::Fields(Fields {
            second: field(sec, &SECOND)?,
            minute: field(rest[0], &MINUTE)?,
            hour: field(rest[1], &HOUR)?,
            dom: field(rest[2], &DOM)?,
            month: field(rest[3], &MONTH)?,
            dow,
            dom_any,
            dow_any,
        }))
    }

    /// The first tick strictly after `t` (local wall-clock time), within the next five years.
    /// `Every` counts from `t`.
    pub fn next_after(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        match self {
            Schedule::Every(d) => t.checked_add_signed(chrono::Duration::from_std(*d).ok()?),
            Schedule::Fields(f) => f.next_after(t),
        }
    }
}

fn descriptor(d: &str) -> Result<Schedule, String> {
    let fields = match d.to_ascii_lowercase().as_str() {
        "yearly" | "annually" => "0 0 0 1 1 *",
        "monthly" => "0 0 0 1 * *",
        "weekly" => "0 0 0 * * 0",
        "daily" | "midnight" => "0 0 0 * * *",
        "hourly" => "0 0 * * * *",
        other => {
            let Some(every) = other.strip_prefix("every") else {
                return Err(format!(
                    "unknown descriptor @{d} (expected @yearly, @monthly, @weekly, @daily, @hourly or @every <duration>)"
                ));
            };
            let dur = go_duration(every.trim())?;
            if dur < Duration::from_secs(1) {
                return Err(format!(
                    "@every {}: the interval must be at least 1s",
                    every.trim()
                ));
            }
            return Ok(Schedule::Every(dur));
        }
    };
    Schedule::parse(fields)
}

/// Go's `time.ParseDuration` units: `1h30m`, `90s`, `1.5h`, `500ms`.
pub fn go_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {s:?} (expected e.g. 30s, 5m, 1h30m)");
    if s.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let value: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += value * scale;
    }
    // Five years at most: anything longer is a typo, and it keeps the arithmetic in range.
    if !(0.0..=5.0 * 366.0 * 86400.0).contains(&total) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(total))
}

/// One field: `*`, `?`, `n`, `a-b`, `*/s`, `a-b/s`, `a/s`, names, and lists of those.
fn field(s: &str, r: &Range) -> Result<u64, String> {
    let mut bits = 0u64;
    for part in s.split(',') {
        let (span, step) = match part.split_once('/') {
            Some((span, step)) => {
                let step: u32 = step
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("{}: bad step in {part:?}", r.name))?;
                (span, Some(step))
            }
            None => (part, None),
        };
        let (lo, hi) = if span == "*" || span == "?" {
            (r.min, r.max)
        } else if let Some((a, b)) = span.split_once('-') {
            (value(a, r)?, value(b, r)?)
        } else {
            let v = value(span, r)?;
            // `a/s` means from a to the end, as cron's.
            (v, if step.is_some() { r.max } else { v })
        };
        if lo > hi {
            return Err(format!("{}: range {part:?} runs backwards", r.name));
        }
        let step = step.unwrap_or(1);
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            let Some(next) = v.checked_add(step) else {
                break;
            };
            v = next;
        }
    }
    Ok(bits)
}

fn value(s: &str, r: &Range) -> Result<u32, String> {
    let l = s.to_ascii_lowercase();
    if let Some(i) = r.names.iter().position(|n| *n == l) {
        let base = if r.min == 1 { 1 } else { 0 };
        return Ok(i as u32 + base);
    }
    match s.parse::<u32>() {
        Ok(v) if (r.min..=r.max).contains(&v) => Ok(v),
        _ => Err(format!(
            "{}: {s:?} is not a value from {} to {}",
            r.name, r.min, r.max
        )),
    }
}

impl Fields {
    fn day_matches(&self, d: NaiveDate) -> bool {
        let dom = self.dom & (1 << d.day()) != 0;
        let dow = self.dow & (1 << d.weekday().num_days_from_sunday()) != 0;
        if self.dom_any || self.dow_any {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// Walks forward field by field, as cron does: the first month that matches, then the first
    /// day in it, and so on, resetting the smaller fields each time a larger one moves.
    fn next_after(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut t = t.with_nanosecond(0)? + chrono::Duration::seconds(1);
        let limit = t.year() + 5;
        'outer: while t.year() <= limit {
            while self.month & (1 << t.month()) == 0 {
                let (y, m) = if t.month() == 12 {
                    (t.year() + 1, 1)
                } else {
                    (t.year(), t.month() + 1)
                };
                t = NaiveDate::from_ymd_opt(y, m, 1)?.and_time(NaiveTime::MIN);
                if t.year() > limit {
                    return None;
                }
            }
            while !self.day_matches(t.date()) {
                let month = t.month();
                t = t.date().succ_opt()?.and_time(NaiveTime::MIN);
                if t.month() != month {
                    continue 'outer;
                }
            }
            while self.hour & (1 << t.hour()) == 0 {
                let day = t.day();
                t = t.with_minute(0)?.with_second(0)? + chrono::Duration::hours(1);
                if t.day() != day {
                    continue 'outer;
                }
            }
            while self.minute & (1 << t.minute()) == 0 {
                let hour = t.hour();
                t = t.with_second(0)? + chrono::Duration::minutes(1);
                if t.hour() != hour {
                    continue 'outer;
                }
            }
            while self.second & (1 << t.second()) == 0 {
                let minute = t.minute();
                t += chrono::Duration::seconds(1);
                if t.minute() != minute {
                    continue 'outer;
                }
            }
            return Some(t);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("test time")
    }

    #[test]
    fn next_ticks() {
        // (schedule, after, the next tick)
        let cases = [
            (
                "*/5 * * * * *",
                "2026-12-02 10:00:03",
                "2026-12-02 10:00:05",
            ),
            (
                "*/5 * * * * *",
                "2026-12-02 10:00:05",
                "2026-12-02 10:00:10",
            ),
            (
                "*/5 * * * * *",
                "2026-12-02 10:59:58",
                "2026-12-02 11:00:00",
            ),
            ("0 * * * * *", "2026-12-02 10:00:00", "2026-12-02 10:01:00"),
            (
                "30 15 10 * * *",
                "2026-12-02 10:15:30",
                "2026-12-03 10:15:30",
            ),
            ("0 0 0 1 1 *", "2026-12-02 10:00:00", "2027-01-01 00:00:00"),
            (
                "0 0 12 * * mon-fri",
                "2026-12-05 13:00:00",
                "2026-12-07 12:00:00",
            ),
            (
                "0 0 0 29 feb *",
                "2026-03-01 00:00:00",
                "2028-02-29 00:00:00",
            ),
            ("0 0 0 31 * *", "2026-11-15 00:00:00", "2026-12-31 00:00:00"),
            // Both days restricted: either matches (the 1st, or a Sunday).
            (
                "0 0 0 1 * sun",
                "2026-12-02 00:00:00",
                "2026-12-06 00:00:00",
            ),
            ("0 0 0 * * 7", "2026-12-02 00:00:00", "2026-12-06 00:00:00"),
            ("0 0 0 * * ?", "2026-12-02 00:00:00", "2026-12-03 00:00:00"),
            (
                "5,10-12 * * * * *",
                "2026-12-02 00:00:10",
                "2026-12-02 00:00:11",
            ),
            (
                "10/20 * * * * *",
                "2026-12-02 00:00:31",
                "2026-12-02 00:00:50",
            ),
            // Five fields: classic cron, at second 0.
            ("*/2 * * * *", "2026-12-02 00:00:31", "2026-12-02 00:02:00"),
            ("@hourly", "2026-12-02 00:00:31", "2026-12-02 01:00:00"),
            ("@daily", "2026-12-02 00:00:31", "2026-12-03 00:00:00"),
            ("@weekly", "2026-12-02 00:00:31", "2026-12-06 00:00:00"),
            ("@every 1m30s", "2026-12-02 00:00:31", "2026-12-02 00:02:01"),
        ];
        for (spec, after, want) in cases {
            let s = Schedule::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(
                s.next_after(at(after)),
                Some(at(want)),
                "{spec} after {after}"
            );
        }
    }

    #[test]
    fn a_schedule_that_never_fires_has_no_next_tick() {
        let s = Schedule::parse("0 0 0 31 feb *").expect("parses");
        assert_eq!(s.next_after(at("2026-01-01 00:00:00")), None);
    }

    #[test]
    fn bad_schedules_say_what_is_wrong() {
        let cases = [
            ("* * *", "got 3"),
            ("60 * * * * *", "second: \"60\" is not a value from 0 to 59"),
            ("* * 24 * * *", "hour"),
            ("* * * 0 * *", "day of month"),
            ("* * * * 13 *", "month"),
            ("* * * * * 8", "day of week"),
            ("*/0 * * * * *", "bad step"),
            ("5-1 * * * * *", "backwards"),
            ("@often", "unknown descriptor"),
            ("@every", "invalid duration"),
            ("@every 10x", "invalid duration"),
            ("@every 100ms", "at least 1s"),
        ];
        for (spec, want) in cases {
            let e = Schedule::parse(spec).expect_err(spec);
            assert!(e.contains(want), "{spec}: {e}");
        }
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(go_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(go_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(go_duration("5").is_err());
        assert!(go_duration("99999h").is_err());
    }
}
