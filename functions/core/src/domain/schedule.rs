//! Business hours: when a service unit is open, in its own time zone.
//!
//! A [`Schedule`] is what an administrator saves: an IANA time zone, weekly
//! opening hours (several intervals a weekday, `"08:00"`–`"14:00"` and
//! `"15:00"`–`"17:30"`; `"24:00"` ends a day), holidays and closures (whole
//! dates or runs of dates closed, or open with hours of their own) — or
//! 24x7. [`Schedule::calendar`]
//! checks it once and gives a [`Calendar`], which answers the three
//! questions SLA clocks ask: [`Calendar::is_open`],
//! [`Calendar::business_between`] and [`Calendar::add_business`].
//!
//! # What "business time" means
//!
//! An instant is open when its wall-clock time in the schedule's zone (date
//! and time of day) falls inside an opening interval of that date. Business
//! time between two instants is the *real* time elapsed while open. This one
//! definition settles every daylight-saving question without special cases:
//!
//! - spring forward (Europe/Madrid, last Sunday of March, 02:00 → 03:00):
//!   the wall times 02:00–03:00 never happen, so a 24x7 Sunday holds 23
//!   hours and an interval 01:00–04:00 holds two;
//! - fall back (last Sunday of October, 03:00 → 02:00): the wall times
//!   02:00–03:00 happen twice and both count, so the same day holds 25 hours
//!   and 01:00–04:00 holds four.
//!
//! [`Calendar::add_business`] is the inverse: the earliest instant at which
//! `duration` of business time has elapsed since `start`. A target that ends
//! exactly at closing time falls due at closing time, not the next morning.
//! All instants are epoch milliseconds (UTC); the functions are pure.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::ids::ScheduleId;

/// A minute, an hour and a day in milliseconds.
pub const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Minutes in a day: the end of an interval that closes at `"24:00"`.
const DAY_MINUTES: u16 = 24 * 60;
/// The earliest instant a calendar answers for (1970-01-01T00:00Z): before
/// it nothing is open.
pub const START_MS: i64 = 0;
/// The latest instant a calendar answers for (9999-12-31T23:59:59.999Z):
/// [`Calendar::add_business`] saturates here when a duration never elapses
/// before it.
pub const END_MS: i64 = 253_402_300_799_999;
/// Most holidays a schedule may hold (years of a unit's calendar).
pub const MAX_HOLIDAYS: usize = 2_000;
/// No zone's offset reaches this far from UTC; the instants of a local date
/// all lie within it of the date's own midnight read as UTC.
const MAX_OFFSET_MS: i64 = 15 * HOUR_MS;
/// How much instant time one step of the walk covers.
const CHUNK_MS: i64 = 7 * DAY_MS;

/// A day of the week, as opening hours name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    /// Monday to Sunday.
    pub const ALL: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];

    /// 0 for Monday to 6 for Sunday.
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Opening hours on the given days: `from` and `to` are `"HH:MM"` wall
/// times, `to` after `from` (`"24:00"` closes at midnight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    pub days: Vec<Day>,
    pub from: String,
    pub to: String,
}

/// One interval of a holiday that opens for part of the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub from: String,
    pub to: String,
}

/// A date (`"YYYY-MM-DD"`), or a closure from `date` to `until`, on which
/// the weekly hours do not apply: closed all day, or open only during
/// `hours`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    pub date: String,
    /// The last date of a closure of several days (inclusive), e.g. the
    /// summer closure from `2026-08-03` until `2026-08-21`; absent for one
    /// date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Hours of a partial day (e.g. Christmas Eve 09:00–13:00); absent or
    /// `null` closes the whole date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Vec<Span>>,
}

/// A business-hours schedule as an instance stores it. Check it with
/// [`Schedule::calendar`] before computing with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub id: ScheduleId,
    pub name: String,
    /// IANA time zone (`Europe/Madrid`) in which hours and holidays are read.
    pub timezone: String,
    /// Open around the clock (holidays still close it); `hours` must then be
    /// empty.
    #[serde(default)]
    pub always_open: bool,
    #[serde(default)]
    pub hours: Vec<Opening>,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

/// Why a schedule cannot be used. Each variant has a stable [`code`](Self::code).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScheduleError {
    #[error("{0:?} is not an IANA time zone")]
    UnknownZone(String),
    #[error("{0:?} is not a time of day (HH:MM, 00:00 to 24:00)")]
    BadTime(String),
    #[error("{0:?} is not a date (YYYY-MM-DD)")]
    BadDate(String),
    #[error("{where_}: {from}–{to} does not end after it starts")]
    InvertedInterval {
        where_: String,
        from: String,
        to: String,
    },
    #[error("{where_}: {first} overlaps {second}")]
    OverlappingIntervals {
        where_: String,
        first: String,
        second: String,
    },
    #[error("an opening names no day")]
    NoDays,
    #[error("the schedule is never open: give weekly hours or make it 24x7")]
    NeverOpen,
    #[error("a 24x7 schedule takes no weekly hours")]
    HoursWith24x7,
    #[error("{0} is a holiday twice")]
    DuplicateHoliday(String),
    #[error("at most {MAX_HOLIDAYS} holiday and closure dates")]
    TooManyHolidays,
    #[error("the closure from {from} until {until} ends before it starts")]
    InvertedClosure { from: String, until: String },
}

impl ScheduleError {
    /// The stable snake_case code of the error.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownZone(_) => "schedule_unknown_zone",
            Self::BadTime(_) => "schedule_bad_time",
            Self::BadDate(_) => "schedule_bad_date",
            Self::InvertedInterval { .. } => "schedule_inverted_interval",
            Self::OverlappingIntervals { .. } => "schedule_overlapping_intervals",
            Self::NoDays => "schedule_no_days",
            Self::NeverOpen => "schedule_never_open",
            Self::HoursWith24x7 => "schedule_hours_with_24x7",
            Self::DuplicateHoliday(_) => "schedule_duplicate_holiday",
            Self::TooManyHolidays => "schedule_too_many_holidays",
            Self::InvertedClosure { .. } => "schedule_inverted_closure",
        }
    }

    /// The field of [`Schedule`] the error is about.
    #[must_use]
    pub fn field(&self) -> &'static str {
        match self {
            Self::UnknownZone(_) => "timezone",
            Self::BadDate(_)
            | Self::DuplicateHoliday(_)
            | Self::TooManyHolidays
            | Self::InvertedClosure { .. } => "holidays",
            Self::InvertedInterval { where_, .. } | Self::OverlappingIntervals { where_, .. }
                if where_.starts_with("holiday") =>
            {
                "holidays"
            }
            _ => "hours",
        }
    }
}

/// Minutes since midnight, `[from, to)`.
type Interval = (u16, u16);

/// `"HH:MM"` as minutes since midnight; `"24:00"` only where `end` allows.
fn minutes(text: &str, end: bool) -> Result<u16, ScheduleError> {
    let bad = || ScheduleError::BadTime(text.to_owned());
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    let total = h * 60 + m;
    if m >= 60 || total > DAY_MINUTES || (total == DAY_MINUTES && !end) {
        return Err(bad());
    }
    Ok(total)
}

fn show(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn show_interval((from, to): Interval) -> String {
    format!("{}–{}", show(from), show(to))
}

fn interval(from: &str, to: &str, where_: &str) -> Result<Interval, ScheduleError> {
    let (a, b) = (minutes(from, false)?, minutes(to, true)?);
    if b <= a {
        return Err(ScheduleError::InvertedInterval {
            where_: where_.to_owned(),
            from: from.trim().to_owned(),
            to: to.trim().to_owned(),
        });
    }
    Ok((a, b))
}

/// Sorts a day's intervals, refuses overlaps and joins those that touch.
fn normalise(mut day: Vec<Interval>, where_: &str) -> Result<Vec<Interval>, ScheduleError> {
    day.sort_unstable();
    let mut out: Vec<Interval> = Vec::with_capacity(day.len());
    for next in day {
        match out.last_mut() {
            Some(last) if next.0 < last.1 => {
                return Err(ScheduleError::OverlappingIntervals {
                    where_: where_.to_owned(),
                    first: show_interval(*last),
                    second: show_interval(next),
                });
            }
            Some(last) if next.0 == last.1 => last.1 = next.1,
            _ => out.push(next),
        }
    }
    Ok(out)
}

fn day_name(day: usize) -> &'static str {
    [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ][day]
}

impl Schedule {
    /// Checks the schedule and readies it for computing: a known zone,
    /// well-formed times and dates, intervals that end after they start and
    /// do not overlap on a day (intervals that touch are joined), each date a
    /// holiday once, and some open time every week unless it is 24x7.
    pub fn calendar(&self) -> Result<Calendar, ScheduleError> {
        let zone: Tz = self
            .timezone
            .trim()
            .parse()
            .map_err(|_| ScheduleError::UnknownZone(self.timezone.clone()))?;
        let mut week: [Vec<Interval>; 7] = Default::default();
        if self.always_open {
            if !self.hours.is_empty() {
                return Err(ScheduleError::HoursWith24x7);
            }
            week = std::array::from_fn(|_| vec![(0, DAY_MINUTES)]);
        }
        for opening in &self.hours {
            if opening.days.is_empty() {
                return Err(ScheduleError::NoDays);
            }
            let span = interval(&opening.from, &opening.to, "hours")?;
            for day in &opening.days {
                week[day.index()].push(span);
            }
        }
        for (i, day) in week.iter_mut().enumerate() {
            *day = normalise(std::mem::take(day), day_name(i))?;
        }
        if week.iter().all(Vec::is_empty) {
            return Err(ScheduleError::NeverOpen);
        }
        if self.holidays.len() > MAX_HOLIDAYS {
            return Err(ScheduleError::TooManyHolidays);
        }
        let mut holidays = BTreeMap::new();
        let parse = |text: &String| {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| ScheduleError::BadDate(text.clone()))
        };
        for holiday in &self.holidays {
            let date = parse(&holiday.date)?;
            let last = match &holiday.until {
                Some(until) => parse(until)?,
                None => date,
            };
            if last < date {
                return Err(ScheduleError::InvertedClosure {
                    from: date.to_string(),
                    until: last.to_string(),
                });
            }
            let where_ = format!("holiday {date}");
            let hours = match &holiday.hours {
                None => Vec::new(),
                Some(spans) => {
                    let spans = spans
                        .iter()
                        .map(|s| interval(&s.from, &s.to, &where_))
                        .collect::<Result<Vec<_>, _>>()?;
                    normalise(spans, &where_)?
                }
            };
            // Each date of a closure, counted against the same bound.
            for day in date.iter_days().take_while(|d| *d <= last) {
                if holidays.len() == MAX_HOLIDAYS {
                    return Err(ScheduleError::TooManyHolidays);
                }
                if holidays.insert(day, hours.clone()).is_some() {
                    return Err(ScheduleError::DuplicateHoliday(day.to_string()));
                }
            }
        }
        Ok(Calendar {
            zone,
            week,
            holidays,
        })
    }
}

/// A checked schedule, ready to compute with. Cheap to clone.
#[derive(Clone, PartialEq)]
pub struct Calendar {
    zone: Tz,
    /// Monday to Sunday: sorted, disjoint, non-touching intervals.
    week: [Vec<Interval>; 7],
    /// Dates whose hours replace the week's (empty: closed).
    holidays: BTreeMap<NaiveDate, Vec<Interval>>,
}

impl fmt::Debug for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("zone", &self.zone.name())
            .field("week", &self.week)
            .field("holidays", &self.holidays.len())
            .finish()
    }
}

impl Calendar {
    /// Open around the clock, every day: business time is real time.
    #[must_use]
    pub fn always() -> Self {
        Self {
            zone: Tz::UTC,
            week: std::array::from_fn(|_| vec![(0, DAY_MINUTES)]),
            holidays: BTreeMap::new(),
        }
    }

    /// The zone hours are read in.
    #[must_use]
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// Open every minute of every day, without holidays: the walk is not
    /// needed.
    fn is_24x7(&self) -> bool {
        self.holidays.is_empty() && self.week.iter().all(|d| d == &[(0, DAY_MINUTES)])
    }

    /// Whether the unit is open at instant `at_ms`.
    #[must_use]
    pub fn is_open(&self, at_ms: i64) -> bool {
        if !(START_MS..END_MS).contains(&at_ms) {
            return false;
        }
        self.is_24x7() || !self.open_ranges(at_ms, at_ms.saturating_add(1)).is_empty()
    }

    /// Business time elapsed from `a_ms` to `b_ms` (0 when `b_ms <= a_ms`).
    #[must_use]
    pub fn business_between(&self, a_ms: i64, b_ms: i64) -> i64 {
        let (a_ms, b_ms) = (a_ms.max(START_MS), b_ms.min(END_MS));
        if b_ms <= a_ms {
            return 0;
        }
        if self.is_24x7() {
            return b_ms - a_ms;
        }
        let mut total = 0;
        let mut at = a_ms;
        while at < b_ms {
            let to = at.saturating_add(CHUNK_MS).min(b_ms);
            total += self
                .open_ranges(at, to)
                .iter()
                .map(|(s, e)| e - s)
                .sum::<i64>();
            at = to;
        }
        total
    }

    /// The earliest instant at which `duration_ms` of business time has
    /// elapsed since `start_ms`: `start_ms` itself for a duration of 0 or
    /// less, and [`END_MS`] if that never happens before it.
    #[must_use]
    pub fn add_business(&self, start_ms: i64, duration_ms: i64) -> i64 {
        if duration_ms <= 0 {
            return start_ms;
        }
        let start_ms = start_ms.clamp(START_MS, END_MS);
        if self.is_24x7() {
            return start_ms.saturating_add(duration_ms).min(END_MS);
        }
        let mut left = duration_ms;
        let mut at = start_ms;
        while at < END_MS {
            let to = at.saturating_add(CHUNK_MS).min(END_MS);
            for (s, e) in self.open_ranges(at, to) {
                if left <= e - s {
                    return s + left;
                }
                left -= e - s;
            }
            at = to;
        }
        END_MS
    }

    /// The intervals of `date` (a holiday's, else its weekday's).
    fn day(&self, date: NaiveDate) -> &[Interval] {
        self.holidays
            .get(&date)
            .unwrap_or(&self.week[date.weekday().num_days_from_monday() as usize])
    }

    /// The zone's offset from UTC at instant `t`, in milliseconds.
    fn offset_ms(&self, t: i64) -> i64 {
        match chrono::DateTime::from_timestamp_millis(t) {
            Some(utc) => {
                i64::from(
                    self.zone
                        .offset_from_utc_datetime(&utc.naive_utc())
                        .fix()
                        .local_minus_utc(),
                ) * 1000
            }
            None => 0,
        }
    }

    /// `[from, to)` cut where the zone's offset changes, with each piece's
    /// offset. A change is found by bisection to the millisecond; two
    /// changes that cancel out within one piece are not seen, and no zone
    /// has them within the two and a half days this is asked about.
    fn offsets(&self, from: i64, to: i64, out: &mut Vec<(i64, i64, i64)>) {
        let (first, last) = (self.offset_ms(from), self.offset_ms(to - 1));
        if first == last {
            out.push((from, to, first));
            return;
        }
        // The first instant with another offset than `from`'s.
        let (mut lo, mut hi) = (from, to - 1);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.offset_ms(mid) == first {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        out.push((from, hi, first));
        self.offsets(hi, to, out);
    }

    /// The open instants within `[from, to)`, as sorted, disjoint,
    /// non-touching ranges.
    fn open_ranges(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        let mut ranges = Vec::new();
        if to <= from {
            return ranges;
        }
        // Every local date whose wall times can map into [from, to).
        let (Some(first), Some(last)) = (
            chrono::DateTime::from_timestamp_millis(from - MAX_OFFSET_MS),
            chrono::DateTime::from_timestamp_millis(to + MAX_OFFSET_MS),
        ) else {
            return ranges;
        };
        let mut pieces = Vec::new();
        for date in first.date_naive().iter_days() {
            if date > last.date_naive() {
                break;
            }
            let intervals = self.day(date);
            if intervals.is_empty() {
                continue;
            }
            // The date's midnight as if it were UTC: wall time `w` at
            // offset `o` is the instant `w - o`.
            let midnight = date
                .and_time(chrono::NaiveTime::MIN)
                .and_utc()
                .timestamp_millis();
            pieces.clear();
            self.offsets(
                (midnight - MAX_OFFSET_MS).max(from),
                (midnight + DAY_MS + MAX_OFFSET_MS).min(to),
                &mut pieces,
            );
            for &(a, b) in intervals {
                let (wall_a, wall_b) = (
                    midnight + i64::from(a) * MINUTE_MS,
                    midnight + i64::from(b) * MINUTE_MS,
                );
                for &(p_from, p_to, offset) in &pieces {
                    let start = p_from.max(wall_a - offset);
                    let end = p_to.min(wall_b - offset);
                    if start < end {
                        ranges.push((start, end));
                    }
                }
            }
        }
        ranges.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(ranges.len());
        for (s, e) in ranges {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    const MADRID: &str = "Europe/Madrid";

    fn opening(days: &[Day], from: &str, to: &str) -> Opening {
        Opening {
            days: days.to_vec(),
            from: from.into(),
            to: to.into(),
        }
    }

    const WEEKDAYS: [Day; 5] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];

    fn schedule(zone: &str, hours: Vec<Opening>, holidays: Vec<Holiday>) -> Schedule {
        Schedule {
            id: ScheduleId(1),
            name: "Office".into(),
            timezone: zone.into(),
            always_open: false,
            hours,
            holidays,
        }
    }

    /// Mon–Fri 08:00–14:00 and 15:00–17:30 in Madrid.
    fn office() -> Calendar {
        schedule(
            MADRID,
            vec![
                opening(&WEEKDAYS, "08:00", "14:00"),
                opening(&WEEKDAYS, "15:00", "17:30"),
            ],
            vec![],
        )
        .calendar()
        .unwrap()
    }

    fn holiday(date: &str, name: &str) -> Holiday {
        Holiday {
            date: date.into(),
            until: None,
            name: Some(name.into()),
            hours: None,
        }
    }

    /// Office hours with Catalonia's 2026 holidays (Barcelona's local ones
    /// included) and Christmas Eve open in the morning only.
    fn catalan_office() -> Calendar {
        let mut holidays: Vec<Holiday> = [
            ("2026-01-01", "Cap d'Any"),
            ("2026-01-06", "Reis"),
            ("2026-04-03", "Divendres Sant"),
            ("2026-04-06", "Dilluns de Pasqua Florida"),
            ("2026-05-01", "Festa del Treball"),
            ("2026-05-25", "Dilluns de Pasqua Granada"),
            ("2026-06-24", "Sant Joan"),
            ("2026-08-15", "L'Assumpció"),
            ("2026-09-11", "Diada Nacional de Catalunya"),
            ("2026-09-24", "La Mercè"),
            ("2026-10-12", "Festa Nacional d'Espanya"),
            ("2026-12-08", "La Immaculada"),
            ("2026-12-25", "Nadal"),
            ("2026-12-26", "Sant Esteve"),
        ]
        .into_iter()
        .map(|(d, n)| holiday(d, n))
        .collect();
        holidays.push(Holiday {
            date: "2026-12-24".into(),
            until: None,
            name: Some("Nit de Nadal".into()),
            hours: Some(vec![Span {
                from: "09:00".into(),
                to: "13:00".into(),
            }]),
        });
        schedule(
            MADRID,
            vec![
                opening(&WEEKDAYS, "08:00", "14:00"),
                opening(&WEEKDAYS, "15:00", "17:30"),
            ],
            holidays,
        )
        .calendar()
        .unwrap()
    }

    fn always_in(zone: &str) -> Calendar {
        Schedule {
            always_open: true,
            ..schedule(zone, vec![], vec![])
        }
        .calendar()
        .unwrap()
    }

    /// Wall time `YYYY-MM-DD HH:MM` in `zone` as epoch ms (the earlier of
    /// two in a fall-back hour).
    fn at(zone: &str, wall: &str) -> i64 {
        let tz: Tz = zone.parse().unwrap();
        let naive = NaiveDateTime::parse_from_str(wall, "%Y-%m-%d %H:%M").unwrap();
        tz.from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .timestamp_millis()
    }

    fn madrid(wall: &str) -> i64 {
        at(MADRID, wall)
    }

    /// UTC `YYYY-MM-DD HH:MM` as epoch ms.
    fn utc(wall: &str) -> i64 {
        at("UTC", wall)
    }

    fn wall(ms: i64) -> String {
        let tz: Tz = MADRID.parse().unwrap();
        tz.timestamp_millis_opt(ms)
            .unwrap()
            .format("%Y-%m-%d %H:%M %:z")
            .to_string()
    }

    const fn minutes(n: i64) -> i64 {
        n * MINUTE_MS
    }

    const fn hours(n: i64) -> i64 {
        n * HOUR_MS
    }

    #[test]
    fn within_one_interval_a_target_is_plain_addition() {
        let cal = office();
        // Monday 2 March 2026, 09:00.
        let due = cal.add_business(madrid("2026-03-02 09:00"), minutes(90));
        assert_eq!(wall(due), "2026-03-02 10:30 +01:00");
    }

    #[test]
    fn a_target_skips_the_lunch_break_and_the_night() {
        let cal = office();
        let due = cal.add_business(madrid("2026-03-02 13:30"), hours(1));
        assert_eq!(wall(due), "2026-03-02 15:30 +01:00");
        // 17:00 + 2h: 30 min today, 1h30 tomorrow from 08:00.
        let due = cal.add_business(madrid("2026-03-02 17:00"), hours(2));
        assert_eq!(wall(due), "2026-03-03 09:30 +01:00");
    }

    #[test]
    fn a_target_that_ends_at_closing_time_is_due_at_closing_time() {
        let cal = office();
        let due = cal.add_business(madrid("2026-03-02 17:00"), minutes(30));
        assert_eq!(wall(due), "2026-03-02 17:30 +01:00");
        let due = cal.add_business(madrid("2026-03-02 08:00"), hours(6));
        assert_eq!(wall(due), "2026-03-02 14:00 +01:00");
    }

    #[test]
    fn a_ticket_opened_while_closed_starts_counting_at_the_next_opening() {
        let cal = office();
        // Friday 6 March 2026 at 20:00; a weekend later it is Monday.
        let due = cal.add_business(madrid("2026-03-06 20:00"), hours(1));
        assert_eq!(wall(due), "2026-03-09 09:00 +01:00");
        // Saturday.
        let due = cal.add_business(madrid("2026-03-07 11:00"), minutes(1));
        assert_eq!(wall(due), "2026-03-09 08:01 +01:00");
        assert_eq!(
            cal.business_between(madrid("2026-03-06 17:30"), madrid("2026-03-09 08:00")),
            0
        );
    }

    #[test]
    fn the_open_moments_are_the_intervals_closed_at_the_start_open_at_the_end() {
        let cal = office();
        assert!(!cal.is_open(madrid("2026-03-02 07:59")));
        assert!(cal.is_open(madrid("2026-03-02 08:00")));
        assert!(cal.is_open(madrid("2026-03-02 13:59")));
        assert!(!cal.is_open(madrid("2026-03-02 14:00")));
        assert!(!cal.is_open(madrid("2026-03-02 14:30")));
        assert!(cal.is_open(madrid("2026-03-02 15:00")));
        assert!(!cal.is_open(madrid("2026-03-02 17:30")));
        assert!(!cal.is_open(madrid("2026-03-07 10:00")), "Saturday");
        assert!(!cal.is_open(madrid("2026-03-08 10:00")), "Sunday");
    }

    #[test]
    fn a_week_of_office_hours_is_forty_two_and_a_half_hours() {
        let cal = office();
        assert_eq!(
            cal.business_between(madrid("2026-03-02 00:00"), madrid("2026-03-09 00:00")),
            hours(42) + minutes(30)
        );
    }

    #[test]
    fn the_spring_forward_weekend_of_2026_in_madrid() {
        // Sunday 29 March 2026: 02:00 CET becomes 03:00 CEST.
        let always = always_in(MADRID);
        let sunday = (madrid("2026-03-29 00:00"), madrid("2026-03-30 00:00"));
        assert_eq!(always.business_between(sunday.0, sunday.1), hours(23));
        assert_eq!(sunday.1 - sunday.0, hours(23));
        // 24x7 is real time: 01:30 + 1h is 03:30 on the wall.
        let due = always.add_business(madrid("2026-03-29 01:30"), hours(1));
        assert_eq!(wall(due), "2026-03-29 03:30 +02:00");

        // Open 01:00–04:00 on Sundays: two real hours that day.
        let night = schedule(MADRID, vec![opening(&[Day::Sun], "01:00", "04:00")], vec![])
            .calendar()
            .unwrap();
        assert_eq!(night.business_between(sunday.0, sunday.1), hours(2));
        let due = night.add_business(madrid("2026-03-29 00:00"), minutes(90));
        assert_eq!(wall(due), "2026-03-29 03:30 +02:00");
        assert!(night.is_open(utc("2026-03-29 00:59")), "01:59 CET");
        assert!(night.is_open(utc("2026-03-29 01:00")), "03:00 CEST");

        // Office hours: Friday 17:00 + 1h is Monday 08:30, now in CEST.
        let cal = office();
        let due = cal.add_business(madrid("2026-03-27 17:00"), hours(1));
        assert_eq!(wall(due), "2026-03-30 08:30 +02:00");
        assert_eq!(due, utc("2026-03-30 06:30"));
    }

    #[test]
    fn the_fall_back_weekend_of_2026_in_madrid() {
        // Sunday 25 October 2026: 03:00 CEST becomes 02:00 CET.
        let always = always_in(MADRID);
        let sunday = (madrid("2026-10-25 00:00"), madrid("2026-10-26 00:00"));
        assert_eq!(always.business_between(sunday.0, sunday.1), hours(25));
        let due = always.add_business(madrid("2026-10-25 01:30"), hours(2));
        assert_eq!(wall(due), "2026-10-25 02:30 +01:00");

        // Open 01:00–04:00 on Sundays: four real hours that day, and both
        // 02:30s are open.
        let night = schedule(MADRID, vec![opening(&[Day::Sun], "01:00", "04:00")], vec![])
            .calendar()
            .unwrap();
        assert_eq!(night.business_between(sunday.0, sunday.1), hours(4));
        assert!(night.is_open(utc("2026-10-25 00:30")), "02:30 CEST");
        assert!(night.is_open(utc("2026-10-25 01:30")), "02:30 CET");
        // Open 02:30–02:45 only: both passes count, a quarter each.
        let odd = schedule(MADRID, vec![opening(&[Day::Sun], "02:30", "02:45")], vec![])
            .calendar()
            .unwrap();
        assert_eq!(odd.business_between(sunday.0, sunday.1), minutes(30));
        assert!(!odd.is_open(utc("2026-10-25 01:00")), "02:00 CET");
        let due = odd.add_business(sunday.0, minutes(20));
        assert_eq!(due, utc("2026-10-25 01:35"), "02:35 CET, the second pass");

        // Office hours: Friday 17:00 + 1h is Monday 08:30, back in CET.
        let cal = office();
        let due = cal.add_business(madrid("2026-10-23 17:00"), hours(1));
        assert_eq!(wall(due), "2026-10-26 08:30 +01:00");
        assert_eq!(due, utc("2026-10-26 07:30"));
        assert_eq!(
            cal.business_between(madrid("2026-10-19 00:00"), madrid("2026-11-02 00:00")),
            2 * (hours(42) + minutes(30))
        );
    }

    #[test]
    fn intervals_may_end_at_midnight_and_join_the_next_day() {
        // Friday 20:00–24:00 and Saturday 00:00–02:00: one stretch.
        let cal = schedule(
            MADRID,
            vec![
                opening(&[Day::Fri], "20:00", "24:00"),
                opening(&[Day::Sat], "00:00", "02:00"),
            ],
            vec![],
        )
        .calendar()
        .unwrap();
        assert!(cal.is_open(madrid("2026-03-06 23:59")));
        assert!(cal.is_open(madrid("2026-03-07 00:00")));
        assert!(!cal.is_open(madrid("2026-03-07 02:00")));
        let due = cal.add_business(madrid("2026-03-06 22:00"), hours(3));
        assert_eq!(wall(due), "2026-03-07 01:00 +01:00");
        assert_eq!(
            cal.business_between(madrid("2026-03-06 00:00"), madrid("2026-03-08 00:00")),
            hours(6)
        );
    }

    #[test]
    fn catalan_holidays_close_the_office() {
        let cal = catalan_office();
        // Thursday 10 September 2026 at 17:00 + 1h: the Diada (Friday) and
        // the weekend are closed, so Monday 14 at 08:30.
        let due = cal.add_business(madrid("2026-09-10 17:00"), hours(1));
        assert_eq!(wall(due), "2026-09-14 08:30 +02:00");
        assert!(!cal.is_open(madrid("2026-09-11 10:00")));
        // Easter: Thursday 2 April 17:00 + 1h skips Good Friday, the
        // weekend and Easter Monday.
        let due = cal.add_business(madrid("2026-04-02 17:00"), hours(1));
        assert_eq!(wall(due), "2026-04-07 08:30 +02:00");
    }

    #[test]
    fn a_closure_closes_every_date_it_spans_and_may_open_each_with_hours() {
        let summer = Holiday {
            date: "2026-08-03".into(),
            until: Some("2026-08-21".into()),
            name: Some("Summer closure".into()),
            hours: None,
        };
        let mornings = Holiday {
            date: "2026-08-24".into(),
            until: Some("2026-08-28".into()),
            name: Some("Mornings only".into()),
            hours: Some(vec![Span {
                from: "09:00".into(),
                to: "13:00".into(),
            }]),
        };
        let cal = schedule(
            MADRID,
            vec![opening(&WEEKDAYS, "08:00", "14:00")],
            vec![summer, mornings],
        )
        .calendar()
        .unwrap();
        for day in ["2026-08-03", "2026-08-12", "2026-08-21"] {
            assert!(!cal.is_open(madrid(&format!("{day} 10:00"))), "{day}");
        }
        // Friday 31 July at 13:00 + 2h: an hour that day, three weeks
        // closed, then Monday 24 August opens at nine.
        let due = cal.add_business(madrid("2026-07-31 13:00"), hours(2));
        assert_eq!(wall(due), "2026-08-24 10:00 +02:00");
        assert!(!cal.is_open(madrid("2026-08-26 08:30")));
        assert!(cal.is_open(madrid("2026-08-26 12:30")));
        assert!(!cal.is_open(madrid("2026-08-28 13:30")));
        assert!(cal.is_open(madrid("2026-08-31 08:30")), "back to the week");
        assert_eq!(
            cal.business_between(madrid("2026-08-24 00:00"), madrid("2026-08-29 00:00")),
            hours(20)
        );
    }

    #[test]
    fn a_partial_holiday_opens_with_its_own_hours() {
        let cal = catalan_office();
        // Christmas Eve (Thursday) opens 09:00–13:00 only; Christmas and
        // Sant Esteve are closed, then a weekend.
        assert!(!cal.is_open(madrid("2026-12-24 08:30")));
        assert!(cal.is_open(madrid("2026-12-24 09:00")));
        assert!(!cal.is_open(madrid("2026-12-24 15:30")));
        let due = cal.add_business(madrid("2026-12-24 12:00"), hours(2));
        assert_eq!(wall(due), "2026-12-28 09:00 +01:00");
    }

    #[test]
    fn durations_spanning_months_count_every_closed_day() {
        let cal = catalan_office();
        // 2026 has 261 weekdays; 12 of the holidays fall on one (the
        // Assumption and Sant Esteve are Saturdays), and Christmas Eve is a
        // 4-hour day.
        let year = cal.business_between(madrid("2026-01-01 00:00"), madrid("2027-01-01 00:00"));
        let weekday_holidays = [
            "2026-01-01",
            "2026-01-06",
            "2026-04-03",
            "2026-04-06",
            "2026-05-01",
            "2026-05-25",
            "2026-06-24",
            "2026-09-11",
            "2026-09-24",
            "2026-10-12",
            "2026-12-08",
            "2026-12-25",
        ];
        let full_days = 261 - weekday_holidays.len() as i64 - 1;
        assert_eq!(
            year,
            full_days * (hours(8) + minutes(30)) + hours(4),
            "{} hours",
            year / HOUR_MS
        );
        // And the inverse lands on the last open minute of the year.
        let due = cal.add_business(madrid("2026-01-01 00:00"), year);
        assert_eq!(wall(due), "2026-12-31 17:30 +01:00");
    }

    /// Generated cases: properties of the business-time functions checked
    /// by `proptest` over calendars with weekends, a lunch break, holidays
    /// (a partial one among them), a month's closure, a night opening
    /// across both daylight-saving changes, and 24x7, all in Madrid. Failing
    /// cases shrink to the smallest start and duration that still fail.
    mod properties {
        use std::sync::LazyLock;

        use proptest::prelude::*;

        use super::*;

        /// 2026-01-01 and 2027-01-01, 00:00 UTC.
        const YEAR: (i64, i64) = (1_767_225_600_000, 1_798_761_600_000);
        /// The days around the spring-forward (29 March 2026) and fall-back
        /// (25 October 2026) Sundays in Madrid, 00:00 UTC.
        const SPRING: (i64, i64) = (1_774_569_600_000, 1_774_915_200_000);
        const AUTUMN: (i64, i64) = (1_792_713_600_000, 1_793_059_200_000);

        /// A calendar, its name for failure messages, and the longest
        /// duration asked of it (a night opening of eleven hours a week
        /// would walk years for two months of business time).
        struct Case {
            name: &'static str,
            calendar: Calendar,
            longest: i64,
        }

        /// A failing case names its calendar.
        impl fmt::Debug for Case {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name)
            }
        }

        /// Fridays 20:00–24:00, Saturdays 00:00–02:00 and Sundays
        /// 01:00–04:00: one stretch across midnight, and on the DST Sundays
        /// an opening around the hour the clocks skip or repeat.
        fn nights() -> Calendar {
            schedule(
                MADRID,
                vec![
                    opening(&[Day::Fri], "20:00", "24:00"),
                    opening(&[Day::Sat], "00:00", "02:00"),
                    opening(&[Day::Sun], "01:00", "04:00"),
                ],
                vec![],
            )
            .calendar()
            .unwrap()
        }

        /// Mornings on weekdays, closed from 27 July to 28 August.
        fn closed_in_august() -> Calendar {
            schedule(
                MADRID,
                vec![opening(&WEEKDAYS, "08:00", "14:00")],
                vec![Holiday {
                    date: "2026-07-27".into(),
                    until: Some("2026-08-28".into()),
                    name: Some("Summer closure".into()),
                    hours: None,
                }],
            )
            .calendar()
            .unwrap()
        }

        static CASES: LazyLock<Vec<Case>> = LazyLock::new(|| {
            let two_months = hours(24 * 60);
            vec![
                Case {
                    name: "office",
                    calendar: office(),
                    longest: two_months,
                },
                Case {
                    name: "catalan office",
                    calendar: catalan_office(),
                    longest: two_months,
                },
                Case {
                    name: "closed in August",
                    calendar: closed_in_august(),
                    longest: two_months,
                },
                Case {
                    name: "nights",
                    calendar: nights(),
                    longest: hours(200),
                },
                Case {
                    name: "24x7 in Madrid",
                    calendar: always_in(MADRID),
                    longest: two_months,
                },
            ]
        });

        /// One of the calendars.
        fn case() -> impl Strategy<Value = &'static Case> {
            (0..CASES.len()).prop_map(|i| &CASES[i])
        }

        /// An instant of 2026, a third of them on a DST weekend.
        fn instant() -> impl Strategy<Value = i64> {
            prop_oneof![
                4 => YEAR.0..YEAR.1,
                1 => SPRING.0..SPRING.1,
                1 => AUTUMN.0..AUTUMN.1,
            ]
        }

        /// A duration from a millisecond to two months, most of them short.
        fn duration() -> impl Strategy<Value = i64> {
            prop_oneof![
                1 => 1..MINUTE_MS,
                3 => MINUTE_MS..hours(10),
                2 => hours(10)..hours(24 * 60),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1_000))]

            #[test]
            fn add_business_then_business_between_gives_the_duration_back(
                case in case(),
                start in instant(),
                duration in duration(),
            ) {
                let (cal, d) = (&case.calendar, duration.min(case.longest));
                let due = cal.add_business(start, d);
                prop_assert_eq!(
                    cal.business_between(start, due),
                    d,
                    "{} from {} + {}",
                    case.name,
                    wall(start),
                    d
                );
                // Nothing earlier would do.
                prop_assert!(cal.business_between(start, due - 1) < d);
                // The due moment is open, or the end of an opening.
                prop_assert!(
                    cal.is_open(due) || cal.is_open(due - 1),
                    "{}: {} is neither open nor the end of an opening",
                    case.name,
                    wall(due)
                );
            }

            #[test]
            fn business_time_grows_with_the_end_and_adds_up_over_a_split(
                case in case(),
                a in instant(),
                steps in (0..hours(24 * 21), 0..hours(24 * 21)),
            ) {
                let cal = &case.calendar;
                let (m, b) = (a + steps.0.min(steps.1), a + steps.0.max(steps.1));
                let (to_m, to_b) = (cal.business_between(a, m), cal.business_between(a, b));
                prop_assert!(to_m <= to_b, "{}: monotone in the end", case.name);
                prop_assert!(to_b <= b - a, "{}: never more than real time", case.name);
                prop_assert_eq!(
                    to_m + cal.business_between(m, b),
                    to_b,
                    "{}: {} to {} split at {}",
                    case.name,
                    wall(a),
                    wall(b),
                    wall(m)
                );
            }

            #[test]
            fn a_later_start_or_a_longer_duration_is_never_due_earlier(
                case in case(),
                start in instant(),
                later in 0..hours(24 * 7),
                durations in (duration(), duration()),
            ) {
                let cal = &case.calendar;
                let (short, long) = (
                    durations.0.min(durations.1).min(case.longest),
                    durations.0.max(durations.1).min(case.longest),
                );
                let due = cal.add_business(start, short);
                prop_assert!(
                    due <= cal.add_business(start, long),
                    "{}: monotone in the duration",
                    case.name
                );
                prop_assert!(
                    due <= cal.add_business(start + later, short),
                    "{}: monotone in the start",
                    case.name
                );
            }
        }
    }

    #[test]
    fn reversed_or_empty_ranges_and_zero_durations() {
        let cal = office();
        let t = madrid("2026-03-02 10:00");
        assert_eq!(cal.business_between(t, t), 0);
        assert_eq!(cal.business_between(t + 1, t), 0);
        assert_eq!(cal.add_business(t, 0), t);
        assert_eq!(cal.add_business(t, -5), t);
        // Zero from a closed moment is that moment, not the next opening.
        let night = madrid("2026-03-02 22:00");
        assert_eq!(cal.add_business(night, 0), night);
    }

    #[test]
    fn other_zones_are_read_in_their_own_time() {
        // New York: Mon–Fri 09:00–17:00; the US springs forward on
        // 8 March 2026.
        let ny = schedule(
            "America/New_York",
            vec![opening(&WEEKDAYS, "09:00", "17:00")],
            vec![],
        )
        .calendar()
        .unwrap();
        let due = ny.add_business(at("America/New_York", "2026-03-06 16:00"), hours(2));
        assert_eq!(due, at("America/New_York", "2026-03-09 10:00"));
        assert_eq!(due, utc("2026-03-09 14:00"));
        // Calendar::always() is UTC, every instant open.
        let always = Calendar::always();
        assert!(always.is_open(0));
        assert_eq!(always.add_business(5, hours(3)), 5 + hours(3));
    }

    #[test]
    fn the_ends_of_time_saturate_without_panicking() {
        let cal = office();
        assert_eq!(cal.add_business(END_MS - hours(1), hours(1000)), END_MS);
        assert_eq!(
            Calendar::always().add_business(END_MS - 1, hours(1)),
            END_MS
        );
        for cal in [office(), Calendar::always()] {
            assert!(!cal.is_open(i64::MIN) && !cal.is_open(i64::MAX));
            assert_eq!(cal.business_between(i64::MIN, START_MS), 0);
            assert_eq!(cal.business_between(END_MS, i64::MAX), 0);
            assert_eq!(cal.add_business(i64::MAX, hours(1)), END_MS);
            assert!(cal.add_business(i64::MIN, hours(1)) > START_MS);
        }
    }

    fn code(s: &Schedule) -> &'static str {
        s.calendar().unwrap_err().code()
    }

    #[test]
    fn bad_schedules_are_refused_with_stable_codes() {
        let ok = || schedule(MADRID, vec![opening(&WEEKDAYS, "08:00", "14:00")], vec![]);
        assert!(ok().calendar().is_ok());

        let mut s = ok();
        s.timezone = "Europe/Atlantis".into();
        assert_eq!(code(&s), "schedule_unknown_zone");
        assert_eq!(s.calendar().unwrap_err().field(), "timezone");

        for (from, to) in [
            ("8", "14:00"),
            ("08:00", "25:00"),
            ("24:00", "24:00"),
            ("08:60", "09:00"),
            ("", "09:00"),
            ("08:00", "9:0"),
        ] {
            let s = schedule(MADRID, vec![opening(&WEEKDAYS, from, to)], vec![]);
            assert_eq!(code(&s), "schedule_bad_time", "{from}–{to}");
        }
        for (from, to) in [("14:00", "08:00"), ("09:00", "09:00")] {
            let s = schedule(MADRID, vec![opening(&WEEKDAYS, from, to)], vec![]);
            assert_eq!(code(&s), "schedule_inverted_interval", "{from}–{to}");
        }

        let overlapping = schedule(
            MADRID,
            vec![
                opening(&WEEKDAYS, "08:00", "14:00"),
                opening(&[Day::Wed], "13:00", "15:00"),
            ],
            vec![],
        );
        let err = overlapping.calendar().unwrap_err();
        assert_eq!(err.code(), "schedule_overlapping_intervals");
        assert_eq!(
            err.to_string(),
            "Wednesday: 08:00–14:00 overlaps 13:00–15:00"
        );
        // Touching intervals are fine, and join.
        let touching = schedule(
            MADRID,
            vec![
                opening(&WEEKDAYS, "08:00", "14:00"),
                opening(&WEEKDAYS, "14:00", "15:00"),
            ],
            vec![],
        );
        assert!(
            touching
                .calendar()
                .unwrap()
                .is_open(madrid("2026-03-02 14:00"))
        );

        assert_eq!(
            code(&schedule(MADRID, vec![], vec![])),
            "schedule_never_open"
        );
        assert_eq!(
            code(&schedule(
                MADRID,
                vec![opening(&[], "08:00", "09:00")],
                vec![]
            )),
            "schedule_no_days"
        );
        let mut both = ok();
        both.always_open = true;
        assert_eq!(code(&both), "schedule_hours_with_24x7");

        let mut s = ok();
        s.holidays = vec![holiday("2026-13-01", "Nowhere")];
        assert_eq!(code(&s), "schedule_bad_date");
        s.holidays = vec![
            holiday("2026-09-11", "Diada"),
            holiday("2026-09-11", "Again"),
        ];
        assert_eq!(code(&s), "schedule_duplicate_holiday");
        s.holidays = vec![Holiday {
            date: "2026-12-24".into(),
            until: None,
            name: None,
            hours: Some(vec![
                Span {
                    from: "09:00".into(),
                    to: "12:00".into(),
                },
                Span {
                    from: "11:00".into(),
                    to: "13:00".into(),
                },
            ]),
        }];
        let err = s.calendar().unwrap_err();
        assert_eq!(err.code(), "schedule_overlapping_intervals");
        assert_eq!(err.field(), "holidays");
        s.holidays = (0..=MAX_HOLIDAYS)
            .map(|i| holiday(&format!("{}-01-01", 2000 + i), "New year"))
            .collect();
        assert_eq!(code(&s), "schedule_too_many_holidays");
        let closure = |from: &str, until: &str| Holiday {
            date: from.into(),
            until: Some(until.into()),
            name: None,
            hours: None,
        };
        s.holidays = vec![closure("2026-08-21", "2026-08-03")];
        let err = s.calendar().unwrap_err();
        assert_eq!(
            (err.code(), err.field()),
            ("schedule_inverted_closure", "holidays")
        );
        s.holidays = vec![closure("2026-08-03", "2026-08-32")];
        assert_eq!(code(&s), "schedule_bad_date");
        s.holidays = vec![
            closure("2026-08-03", "2026-08-21"),
            holiday("2026-08-15", "L'Assumpció"),
        ];
        assert_eq!(code(&s), "schedule_duplicate_holiday");
        // A closure's dates count against the bound one by one.
        s.holidays = vec![closure("2000-01-01", "2099-12-31")];
        assert_eq!(code(&s), "schedule_too_many_holidays");
    }

    #[test]
    fn a_schedule_round_trips_as_json() {
        let json = serde_json::json!({
            "id": 3, "name": "Registry", "timezone": "Europe/Madrid",
            "hours": [{"days": ["mon", "tue"], "from": "08:00", "to": "14:00"}],
            "holidays": [{"date": "2026-09-11", "name": "Diada"}],
        });
        let s: Schedule = serde_json::from_value(json.clone()).unwrap();
        assert!(!s.always_open);
        assert_eq!(s.hours[0].days, vec![Day::Mon, Day::Tue]);
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["holidays"], json["holidays"]);
        assert!(s.calendar().is_ok());
    }
}
