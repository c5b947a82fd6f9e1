#include "cairn/core/time.hpp"

#include <chrono>
#include <cstdio>

namespace cairn {

namespace {

using std::chrono::day;
using std::chrono::days;
using std::chrono::month;
using std::chrono::sys_days;
using std::chrono::year;
using std::chrono::year_month_day;

year_month_day Ymd(Day d) { return year_month_day{sys_days{days{d}}}; }

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

Error BadTime(std::string_view what) {
  return Error::Validation("", std::string("not a valid ") + std::string(what));
}

}  // namespace

Day MakeDay(int y, int m, int d) {
  sys_days sd{year{y} / month{static_cast<unsigned>(m)} /
              day{static_cast<unsigned>(d)}};
  return static_cast<Day>(sd.time_since_epoch().count());
}

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  if (m == 2 && year{y}.is_leap()) return 29;
  return kDays[m - 1];
}

Day DayOf(Millis t) {
  Millis q = t / kMillisPerDay;
  if (t % kMillisPerDay < 0) --q;
  return static_cast<Day>(q);
}

Millis StartOfDay(Day d) { return static_cast<Millis>(d) * kMillisPerDay; }

int Weekday(Day d) {
  // 1970-01-01 was a Thursday (4).
  int w = static_cast<int>(((static_cast<int64_t>(d) % 7) + 7 + 3) % 7);
  return w + 1;
}

int YearOf(Day d) { return static_cast<int>(Ymd(d).year()); }
int MonthOf(Day d) { return static_cast<int>(unsigned(Ymd(d).month())); }
int DayOfMonth(Day d) { return static_cast<int>(unsigned(Ymd(d).day())); }

namespace {

// Writes `v` (0 <= v < 10^width) as `width` digits.
char* Digits(char* out, int v, int width) {
  for (int k = width - 1; k >= 0; --k) {
    out[k] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return out + width;
}

}  // namespace

// Both formats are written on every reply and stored event: by hand, as
// snprintf costs microseconds a call.
std::string FormatDate(Day d) {
  auto ymd = Ymd(d);
  const int year = static_cast<int>(ymd.year());
  char buf[16];
  if (year < 0 || year > 9999) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", year,
                  unsigned(ymd.month()), unsigned(ymd.day()));
    return buf;
  }
  char* p = Digits(buf, year, 4);
  *p++ = '-';
  p = Digits(p, static_cast<int>(unsigned(ymd.month())), 2);
  *p++ = '-';
  p = Digits(p, static_cast<int>(unsigned(ymd.day())), 2);
  return std::string(buf, p);
}

std::string FormatTime(Millis t) {
  Day d = DayOf(t);
  Millis ms = t - StartOfDay(d);
  std::string out = FormatDate(d);
  char buf[16];
  char* p = buf;
  *p++ = 'T';
  p = Digits(p, static_cast<int>(ms / 3'600'000), 2);
  *p++ = ':';
  p = Digits(p, static_cast<int>(ms / 60'000 % 60), 2);
  *p++ = ':';
  p = Digits(p, static_cast<int>(ms / 1000 % 60), 2);
  *p++ = '.';
  p = Digits(p, static_cast<int>(ms % 1000), 3);
  *p++ = 'Z';
  out.append(buf, p);
  return out;
}

Result<Day> ParseDate(std::string_view s) {
  int y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, y) ||
      !Digits(s, 5, 2, m) || !Digits(s, 8, 2, d) || m < 1 || m > 12 || d < 1 ||
      d > DaysInMonth(y, m)) {
    return BadTime("date (YYYY-MM-DD)");
  }
  return MakeDay(y, m, d);
}

Result<Millis> ParseTime(std::string_view s) {
  if (s.size() < 20) return BadTime("time (RFC 3339)");
  auto date = ParseDate(s.substr(0, 10));
  if (!date) return BadTime("time (RFC 3339)");
  char t = s[10];
  int h, mi, sec;
  if ((t != 'T' && t != 't' && t != ' ') || !Digits(s, 11, 2, h) ||
      s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' ||
      !Digits(s, 17, 2, sec) || h > 23 || mi > 59 || sec > 60) {
    return BadTime("time (RFC 3339)");
  }
  if (sec == 60) sec = 59;  // leap second: clamp
  size_t i = 19;
  int milli = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    int scale = 100;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      milli += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start || i - start > 9) return BadTime("time (RFC 3339)");
  }
  int offset_min = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!Digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !Digits(s, i + 4, 2, om) || oh > 23 || om > 59) {
      return BadTime("time (RFC 3339)");
    }
    offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return BadTime("time (RFC 3339)");
  }
  if (i != s.size()) return BadTime("time (RFC 3339)");
  return StartOfDay(*date) + h * 3'600'000LL + mi * 60'000LL + sec * 1000LL +
         milli - offset_min * 60'000LL;
}

Millis NowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

}  // namespace cairn
