//! A small, strict JSON parser (RFC 8259) for response bodies.
//!
//! Hand-written instead of `serde_json` because this crate only reads two tiny documents, and
//! the general machinery (serde's data model, float parsing and printing tables) was most of
//! the WebAssembly module's size. Semantics follow `JSON.parse`: duplicate keys keep the last
//! value, a leading UTF-8 BOM is skipped. Nesting is limited to [`MAX_DEPTH`] so hostile input
//! cannot exhaust the stack; lone surrogates and invalid UTF-8 are rejected.

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 128;

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    /// Integers up to 2^53 are exact; larger or fractional values are the nearest `f64` or
    /// close to it (only used to describe them), and out-of-range values are infinite.
    Number(f64),
    String(String),
    Array(Vec<Value>),
    /// Members in document order; lookups take the last of duplicate keys.
    Object(Vec<(String, Value)>),
    /// Never parsed: a JavaScript value that JSON cannot hold (a function, a throwing getter,
    /// …), described by the validator as it is, for `parsePostItemAnalytics` on JS values.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Other(&'static str),
}

impl Value {
    /// The value of `key` when this is an object.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
}

/// Why a body is not JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// The input ended early (a body cut off mid-way).
    pub(crate) eof: bool,
    /// Byte offset of the problem.
    pub(crate) offset: usize,
    /// Nesting went past [`MAX_DEPTH`].
    pub(crate) too_deep: bool,
}

impl ParseError {
    /// 1-based line and column of the problem in `input`.
    pub(crate) fn line_column(&self, input: &[u8]) -> (usize, usize) {
        let before = input.get(..self.offset).unwrap_or(input);
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        (line, column)
    }
}

/// Parses a complete JSON document.
pub(crate) fn parse(input: &[u8]) -> Result<Value, ParseError> {
    let start = if input.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 };
    let mut p = Parser { b: input, i: start };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i < p.b.len() {
        return Err(p.err());
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self) -> ParseError {
        ParseError { eof: self.i >= self.b.len(), offset: self.i, too_deep: false }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), ParseError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err())
        }
    }

    fn literal(&mut self, word: &[u8], v: Value) -> Result<Value, ParseError> {
        for &c in word {
            self.eat(c)?;
        }
        Ok(v)
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(ParseError { too_deep: true, ..self.err() });
        }
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err()),
        }
    }

    /// Consumes an opening bracket; true when the container is empty (closed right away).
    fn open(&mut self, close: u8) -> bool {
        self.i += 1;
        self.ws();
        let empty = self.peek() == Some(close);
        if empty {
            self.i += 1;
        }
        empty
    }

    /// After a member or item: true at the closing bracket, false after a comma.
    fn end_of_item(&mut self, close: u8) -> Result<bool, ParseError> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                Ok(false)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(true)
            }
            _ => Err(self.err()),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        let mut members = Vec::new();
        if self.open(b'}') {
            return Ok(Value::Object(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err());
            }
            let key = self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            members.push((key, self.value(depth + 1)?));
            if self.end_of_item(b'}')? {
                return Ok(Value::Object(members));
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        let mut items = Vec::new();
        if self.open(b']') {
            return Ok(Value::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            if self.end_of_item(b']')? {
                return Ok(Value::Array(items));
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err()),
            };
            v = v * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            // Copy the run of plain bytes at once; check it is UTF-8.
            let run_start = self.i;
            while matches!(self.peek(), Some(c) if c != b'"' && c != b'\\' && c >= 0x20) {
                self.i += 1;
            }
            let run = self.b.get(run_start..self.i).unwrap_or_default();
            match std::str::from_utf8(run) {
                Ok(s) => out.push_str(s),
                Err(e) => {
                    self.i = run_start + e.valid_up_to();
                    return Err(self.err());
                }
            }
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.peek().ok_or_else(|| self.err())?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                // A high surrogate must be followed by an escaped low one.
                                self.eat(b'\\')?;
                                self.eat(b'u')?;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err());
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            // Lone low surrogates have no `char`.
                            out.push(char::from_u32(code).ok_or_else(|| self.err())?);
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.err());
                        }
                    }
                }
                // End of input, or a raw control character (not allowed in JSON strings).
                _ => return Err(self.err()),
            }
        }
    }

    fn digits(&mut self, mantissa: &mut u64, dropped: &mut i64, counting_fraction: bool) -> usize {
        let start = self.i;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            self.i += 1;
            if *mantissa < 1_000_000_000_000_000_000 {
                *mantissa = *mantissa * 10 + u64::from(c - b'0');
                if counting_fraction {
                    *dropped -= 1;
                }
            } else if !counting_fraction {
                // Integer digits beyond u64 precision still scale the value.
                *dropped += 1;
            }
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let mut mantissa: u64 = 0;
        let mut exp10: i64 = 0;
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits(&mut mantissa, &mut exp10, false);
            }
            _ => return Err(self.err()),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits(&mut mantissa, &mut exp10, true) == 0 {
                return Err(self.err());
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            let neg_exp = match self.peek() {
                Some(b'-') => {
                    self.i += 1;
                    true
                }
                Some(b'+') => {
                    self.i += 1;
                    false
                }
                _ => false,
            };
            let mut e: i64 = 0;
            let start = self.i;
            while let Some(c @ b'0'..=b'9') = self.peek() {
                self.i += 1;
                e = (e * 10 + i64::from(c - b'0')).min(100_000);
            }
            if self.i == start {
                return Err(self.err());
            }
            exp10 += if neg_exp { -e } else { e };
        }
        let magnitude = scale(mantissa, exp10);
        Ok(Value::Number(if negative { -magnitude } else { magnitude }))
    }
}

/// `mantissa × 10^exp10`. Exact when the mantissa is below 2^53 and |exp10| ≤ 22 (one
/// correctly rounded multiplication or division); close enough to describe a value otherwise.
fn scale(mantissa: u64, exp10: i64) -> f64 {
    let m = mantissa as f64;
    if mantissa == 0 {
        return 0.0;
    }
    if exp10 > 400 {
        return f64::INFINITY;
    }
    if exp10 < -400 {
        return 0.0;
    }
    let mut p = 1.0f64;
    for _ in 0..exp10.unsigned_abs().min(22) {
        p *= 10.0;
    }
    let mut v = if exp10 >= 0 { m * p } else { m / p };
    for _ in 22..exp10.unsigned_abs() {
        v = if exp10 >= 0 { v * 10.0 } else { v / 10.0 };
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Value {
        parse(s.as_bytes()).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    fn bad(s: &str) -> ParseError {
        parse(s.as_bytes()).expect_err(s)
    }

    #[test]
    fn values() {
        assert_eq!(ok(" null "), Value::Null);
        assert_eq!(ok("true"), Value::Bool(true));
        assert_eq!(ok("[1, -2, 3.5, 1e3, 1E-2, 0, -0]"), Value::Array(vec![
            Value::Number(1.0), Value::Number(-2.0), Value::Number(3.5), Value::Number(1000.0),
            Value::Number(0.01), Value::Number(0.0), Value::Number(-0.0),
        ]));
        let o = ok(r#"{"a": {"b": [true, null]}, "a": "last"}"#);
        assert_eq!(o.get("a").and_then(Value::as_str), Some("last"), "last duplicate wins, as in JSON.parse");
        assert_eq!(ok("\u{feff}{}"), Value::Object(vec![]), "a UTF-8 BOM is skipped");
    }

    #[test]
    fn integers_are_exact_up_to_2_pow_53() {
        assert_eq!(ok("9007199254740991"), Value::Number(9_007_199_254_740_991.0));
        assert_eq!(ok("9007199254740993").as_f64().unwrap(), 9_007_199_254_740_992.0);
        assert_eq!(ok("12.0").as_f64(), Some(12.0));
        assert_eq!(ok("1.5e1").as_f64(), Some(15.0));
        assert_eq!(ok("123456789012345678901234567890").as_f64().unwrap(), 1.2345678901234568e29);
        assert!(ok("1e400").as_f64().unwrap().is_infinite());
        assert_eq!(ok("1e-400").as_f64(), Some(0.0));
        assert_eq!(ok("1e99999999999999999999").as_f64(), Some(f64::INFINITY));
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(ok(r#""a\"b\\c\/d\b\f\n\r\t""#), Value::String("a\"b\\c/d\u{8}\u{c}\n\r\t".into()));
        assert_eq!(ok(r#""\u00e9\u20AC\ud83d\ude00""#), Value::String("é€😀".into()));
        assert_eq!(ok("\"é€😀\""), Value::String("é€😀".into()));
        for lone in [r#""\ud83d""#, r#""\ude00""#, r#""\ud83dx""#, r#""\ud83d\u0041""#] {
            bad(lone);
        }
        bad("\"a\nb\"");
        bad(r#""\x""#);
        bad(r#""\u12""#);
        assert!(parse(b"\"\xff\"").is_err(), "invalid UTF-8");
    }

    #[test]
    fn syntax_errors() {
        for s in ["", "   ", "{", "[1,", "{\"a\"", "{\"a\":", "[1 2]", "{,}", "[,]", "[1,]", "{\"a\":1,}", "01", "-", "1.",
            ".5", "1e", "+1", "tru", "nul", "NaN", "Infinity", "{'a':1}", "{a:1}", "[] []", "<html>"] {
            bad(s);
        }
        assert!(bad("{\"a\": [1, 2").eof);
        assert!(!bad("[1 2]").eof);
        let e = bad("{\n  \"a\": x}");
        assert_eq!(e.line_column(b"{\n  \"a\": x}"), (2, 8));
    }

    #[test]
    fn depth_is_limited() {
        let ok_depth = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok_depth.as_bytes()).is_ok());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(bad(&deep).too_deep);
        let deep_obj = "{\"a\":".repeat(10_000);
        assert!(parse(deep_obj.as_bytes()).unwrap_err().too_deep);
    }
}
