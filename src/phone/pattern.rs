//! The regular expressions of libphonenumber's metadata, matched against strings of ASCII
//! digits without a regex engine.
//!
//! The metadata's patterns use a small language: digits, `\d`, classes such as `[2-9]`,
//! groups (capturing or `(?:…)`), `|`, `?`, `{n}`, `{n,m}` and `$`. They are compiled into a
//! tiny backtracking program whose priorities are those of a Perl-style engine (greedy,
//! leftmost alternative first), so a prefix match captures what rlibphonenumber's `regex`
//! captures, and matched against the at most 20 digits of a number in well under a
//! microsecond, with no compilation cost worth measuring at start-up.

use std::cell::RefCell;

/// One instruction of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inst {
    /// One digit whose bit is set (bit 0 for `0`).
    Digit(u16),
    /// N such digits in a row (`\d{6}`, which ends most patterns, in one step).
    Run(u16, u32),
    /// Try the first target, and the second if that fails.
    Split(u32, u32),
    Jump(u32),
    /// Record the position in capture slot N (group G has slots 2G and 2G + 1).
    Save(u32),
    /// `$`: the end of the input.
    End,
    /// Go to the branch of table N that the next digit starts (`u32::MAX`: none does): an
    /// alternation whose branches start with different digits, as the metadata's trie-like
    /// patterns mostly are, needs no backtracking.
    Dispatch(u32),
    Match,
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    program: Vec<Inst>,
    /// The branch targets of the `Dispatch` instructions, by digit.
    tables: Vec<[u32; 10]>,
    /// Capturing groups, not counting the whole match.
    groups: usize,
    /// The digits a match can start with (all of them when it can be empty): most numbers
    /// are of another type than most patterns they are tried against, and this tells at once.
    first: u16,
}

/// A pattern's syntax tree.
#[derive(Debug)]
enum Node {
    Digit(u16),
    Concat(Vec<Node>),
    Alternate(Vec<Node>),
    Group(Box<Node>, Option<usize>),
    Repeat(Box<Node>, u32, u32),
    End,
}

/// Why a pattern cannot be compiled: it uses syntax the metadata does not (the tests compile
/// every pattern of the metadata, so this never happens with the data as generated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub usize);

impl Pattern {
    pub fn compile(text: &str) -> Result<Pattern, Unsupported> {
        let mut parser = Parser {
            text: text.as_bytes(),
            at: 0,
            groups: 0,
        };
        let tree = parser.alternation()?;
        if parser.at != parser.text.len() {
            return Err(Unsupported(parser.at));
        }
        let mut program = Program::default();
        program.emit(&tree);
        program.code.push(Inst::Match);
        let (first, empty) = first_digits(&tree);
        Ok(Pattern {
            program: program.code,
            tables: program.tables,
            groups: parser.groups,
            first: if empty { ALL_DIGITS } else { first },
        })
    }

    /// Whether the whole of `digits` matches.
    pub fn matches(&self, digits: &[u8]) -> bool {
        let starts = match digits.first() {
            Some(&digit) if digit.is_ascii_digit() => self.first & (1 << (digit - b'0')) != 0,
            _ => true,
        };
        starts && self.run(digits, true, &mut []).is_some()
    }

    /// The end of the match at the start of `digits`, the first one a Perl-style engine
    /// finds, with its groups' spans in `spans` (`spans[0]` is group 1).
    pub fn match_start(
        &self,
        digits: &[u8],
        spans: &mut [Option<(usize, usize)>],
    ) -> Option<usize> {
        let mut slots = [usize::MAX; 2 * MAX_GROUPS + 2];
        let slots = &mut slots[..2 * self.groups + 2];
        let end = self.run(digits, false, slots)?;
        for (group, span) in spans.iter_mut().enumerate() {
            let (start, stop) = match slots.get(2 * group + 2..2 * group + 4) {
                Some(&[start, stop]) => (start, stop),
                _ => (usize::MAX, usize::MAX),
            };
            *span = (start != usize::MAX && stop != usize::MAX).then_some((start, stop));
        }
        Some(end)
    }

    fn run(&self, input: &[u8], whole: bool, slots: &mut [usize]) -> Option<usize> {
        STACK.with(|stack| {
            let mut stack = stack.borrow_mut();
            stack.clear();
            stack.push(Job::Try(0, 0));
            while let Some(job) = stack.pop() {
                let (mut pc, mut at) = match job {
                    Job::Try(pc, at) => (pc as usize, at),
                    Job::Restore(slot, value) => {
                        slots[slot as usize] = value;
                        continue;
                    }
                };
                loop {
                    match self.program[pc] {
                        Inst::Digit(set) => match input.get(at) {
                            Some(&byte)
                                if byte.is_ascii_digit() && set & (1 << (byte - b'0')) != 0 =>
                            {
                                pc += 1;
                                at += 1;
                            }
                            _ => break,
                        },
                        Inst::Run(set, count) => {
                            let end = at + count as usize;
                            let fits = input.get(at..end).is_some_and(|run| {
                                run.iter().all(|&byte| {
                                    byte.is_ascii_digit() && set & (1 << (byte - b'0')) != 0
                                })
                            });
                            if !fits {
                                break;
                            }
                            pc += 1;
                            at = end;
                        }
                        Inst::Split(first, second) => {
                            stack.push(Job::Try(second, at));
                            pc = first as usize;
                        }
                        Inst::Jump(target) => pc = target as usize,
                        Inst::Save(slot) => {
                            if let Some(old) = slots.get_mut(slot as usize) {
                                stack.push(Job::Restore(slot, *old));
                                *old = at;
                            }
                            pc += 1;
                        }
                        Inst::End => {
                            if at != input.len() {
                                break;
                            }
                            pc += 1;
                        }
                        Inst::Dispatch(table) => {
                            let target = match input.get(at) {
                                Some(&byte) if byte.is_ascii_digit() => {
                                    self.tables[table as usize][usize::from(byte - b'0')]
                                }
                                _ => u32::MAX,
                            };
                            if target == u32::MAX {
                                break;
                            }
                            pc = target as usize;
                        }
                        Inst::Match => {
                            if whole && at != input.len() {
                                break;
                            }
                            return Some(at);
                        }
                    }
                }
            }
            None
        })
    }
}

/// The most capturing groups a pattern of the metadata has (national prefixes have two).
const MAX_GROUPS: usize = 4;

#[derive(Debug, Clone, Copy)]
enum Job {
    Try(u32, usize),
    Restore(u32, usize),
}

thread_local! {
    /// The backtracking stack, kept between matches: several matches per number read.
    static STACK: RefCell<Vec<Job>> = const { RefCell::new(Vec::new()) };
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
    groups: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.at += 1;
        }
        found
    }

    fn alternation(&mut self) -> Result<Node, Unsupported> {
        let mut branches = vec![self.concatenation()?];
        while self.eat(b'|') {
            branches.push(self.concatenation()?);
        }
        Ok(if branches.len() == 1 {
            branches.remove(0)
        } else {
            Node::Alternate(branches)
        })
    }

    fn concatenation(&mut self) -> Result<Node, Unsupported> {
        let mut items = Vec::new();
        while let Some(byte) = self.peek() {
            if byte == b'|' || byte == b')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quantified(atom)?);
        }
        Ok(Node::Concat(items))
    }

    fn atom(&mut self) -> Result<Node, Unsupported> {
        let start = self.at;
        let byte = self.peek().ok_or(Unsupported(start))?;
        self.at += 1;
        match byte {
            b'0'..=b'9' => Ok(Node::Digit(1 << (byte - b'0'))),
            b'\\' if self.eat(b'd') => Ok(Node::Digit(ALL_DIGITS)),
            b'$' => Ok(Node::End),
            b'[' => self.class(),
            b'(' => {
                let capture = if self.eat(b'?') {
                    if !self.eat(b':') {
                        return Err(Unsupported(self.at));
                    }
                    None
                } else {
                    self.groups += 1;
                    if self.groups > MAX_GROUPS {
                        return Err(Unsupported(start));
                    }
                    Some(self.groups)
                };
                let inner = self.alternation()?;
                if !self.eat(b')') {
                    return Err(Unsupported(self.at));
                }
                Ok(Node::Group(Box::new(inner), capture))
            }
            _ => Err(Unsupported(start)),
        }
    }

    fn class(&mut self) -> Result<Node, Unsupported> {
        let mut set = 0u16;
        loop {
            let start = self.at;
            match self.peek() {
                Some(b']') => {
                    self.at += 1;
                    return Ok(Node::Digit(set));
                }
                Some(b'\\') => {
                    self.at += 1;
                    if !self.eat(b'd') {
                        return Err(Unsupported(start));
                    }
                    set |= ALL_DIGITS;
                }
                Some(low @ b'0'..=b'9') => {
                    self.at += 1;
                    let mut high = low;
                    if self.peek() == Some(b'-') && self.text.get(self.at + 1) != Some(&b']') {
                        self.at += 1;
                        high = self
                            .peek()
                            .filter(u8::is_ascii_digit)
                            .ok_or(Unsupported(self.at))?;
                        self.at += 1;
                    }
                    for digit in low..=high {
                        set |= 1 << (digit - b'0');
                    }
                }
                _ => return Err(Unsupported(start)),
            }
        }
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, Unsupported> {
        if self.eat(b'?') {
            return Ok(Node::Repeat(Box::new(atom), 0, 1));
        }
        if !self.eat(b'{') {
            return Ok(atom);
        }
        let min = self.number()?;
        let max = if self.eat(b',') { self.number()? } else { min };
        if !self.eat(b'}') || max < min {
            return Err(Unsupported(self.at));
        }
        Ok(Node::Repeat(Box::new(atom), min, max))
    }

    fn number(&mut self) -> Result<u32, Unsupported> {
        let start = self.at;
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            self.at += 1;
        }
        std::str::from_utf8(&self.text[start..self.at])
            .ok()
            .and_then(|digits| digits.parse().ok())
            .ok_or(Unsupported(start))
    }
}

const ALL_DIGITS: u16 = 0x3ff;

/// The digits a match of `node` can start with, and whether it can match nothing.
fn first_digits(node: &Node) -> (u16, bool) {
    match node {
        Node::Digit(set) => (*set, false),
        Node::End => (0, true),
        Node::Group(inner, _) => first_digits(inner),
        Node::Repeat(inner, min, _) => {
            let (set, empty) = first_digits(inner);
            (set, empty || *min == 0)
        }
        Node::Alternate(branches) => branches.iter().fold((0, false), |(set, empty), branch| {
            let (first, can_be_empty) = first_digits(branch);
            (set | first, empty || can_be_empty)
        }),
        Node::Concat(items) => {
            let mut set = 0;
            for item in items {
                let (first, empty) = first_digits(item);
                set |= first;
                if !empty {
                    return (set, false);
                }
            }
            (set, true)
        }
    }
}

#[derive(Default)]
struct Program {
    code: Vec<Inst>,
    tables: Vec<[u32; 10]>,
}

impl Program {
    fn here(&self) -> u32 {
        self.code.len() as u32
    }

    fn emit(&mut self, node: &Node) {
        match node {
            Node::Digit(set) => self.code.push(Inst::Digit(*set)),
            Node::End => self.code.push(Inst::End),
            Node::Concat(items) => items.iter().for_each(|item| self.emit(item)),
            Node::Group(inner, None) => self.emit(inner),
            Node::Group(inner, Some(group)) => {
                self.code.push(Inst::Save(2 * *group as u32));
                self.emit(inner);
                self.code.push(Inst::Save(2 * *group as u32 + 1));
            }
            Node::Alternate(branches) if disjoint(branches) => {
                // Each branch is entered by its first digits, and jumps to the end.
                let table = self.tables.len();
                self.tables.push([u32::MAX; 10]);
                self.code.push(Inst::Dispatch(table as u32));
                let mut jumps = Vec::new();
                for branch in branches {
                    let start = self.here();
                    let (first, _) = first_digits(branch);
                    for digit in 0..10 {
                        if first & (1 << digit) != 0 {
                            self.tables[table][digit] = start;
                        }
                    }
                    self.emit(branch);
                    jumps.push(self.code.len());
                    self.code.push(Inst::Jump(0));
                }
                let end = self.here();
                for jump in jumps {
                    self.code[jump] = Inst::Jump(end);
                }
            }
            Node::Alternate(branches) => {
                // Split(this, next) before every branch but the last; each branch jumps to the
                // end, patched once it is known.
                let mut jumps = Vec::new();
                for (index, branch) in branches.iter().enumerate() {
                    let split = self.code.len();
                    let last = index + 1 == branches.len();
                    if !last {
                        self.code.push(Inst::Split(0, 0));
                    }
                    self.emit(branch);
                    if !last {
                        jumps.push(self.code.len());
                        self.code.push(Inst::Jump(0));
                        self.code[split] = Inst::Split(split as u32 + 1, self.here());
                    }
                }
                let end = self.here();
                for jump in jumps {
                    self.code[jump] = Inst::Jump(end);
                }
            }
            Node::Repeat(inner, min, max) => {
                match **inner {
                    Node::Digit(set) if *min > 1 => self.code.push(Inst::Run(set, *min)),
                    _ => {
                        for _ in 0..*min {
                            self.emit(inner);
                        }
                    }
                }
                // The optional copies: failing to take one skips all the rest (greedy).
                let mut splits = Vec::new();
                for _ in *min..*max {
                    splits.push(self.code.len());
                    self.code.push(Inst::Split(0, 0));
                    self.emit(inner);
                }
                let end = self.here();
                for split in splits {
                    self.code[split] = Inst::Split(split as u32 + 1, end);
                }
            }
        }
    }
}

/// Whether no two branches can start with the same digit and none can match nothing: then
/// the next digit chooses the only branch that can match, as trying them in order would.
fn disjoint(branches: &[Node]) -> bool {
    let mut seen = 0u16;
    for branch in branches {
        let (first, empty) = first_digits(branch);
        if empty || seen & first != 0 {
            return false;
        }
        seen |= first;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(pattern: &str, digits: &str) -> bool {
        Pattern::compile(pattern)
            .unwrap()
            .matches(digits.as_bytes())
    }

    #[test]
    fn whole_matches() {
        assert!(full(r"[1-357-9]\d{9}|[18]\d{8}|8\d{6}", "2079460123"));
        assert!(!full(r"[1-357-9]\d{9}|[18]\d{8}|8\d{6}", "207946012"));
        assert!(full(r"8\d{6}", "8123456"));
        assert!(full(r"(?:1[0-2]|9\d?)\d{2,3}", "9123"));
        assert!(full(r"(?:1[0-2]|9\d?)\d{2,3}", "91234"));
        assert!(full(r"7[1-3]\d{8}", "7112345678"));
        assert!(!full(r"7[1-3]\d{8}", "711234567"));
        assert!(!full(r"7[1-3]\d{8}", "71123456789"));
        assert!(!full(r"[2-9]{3}", "219"));
        assert!(!full(r"(?:1[0-2]|9\d?)\d{2,3}", "1312"));
        assert!(full(r"", ""));
        assert!(!full(r"", "1"));
    }

    #[test]
    fn prefix_matches_capture_like_perl() {
        let national = Pattern::compile(r"0?(?:(11|22)15)?").unwrap();
        let mut spans = [None; 2];
        assert_eq!(national.match_start(b"01115123", &mut spans), Some(5));
        assert_eq!(spans, [Some((1, 3)), None]);
        assert_eq!(national.match_start(b"0912", &mut spans), Some(1));
        assert_eq!(spans, [None, None]);
        let nanp = Pattern::compile(r"([2-9]\d{6})$|1").unwrap();
        assert_eq!(nanp.match_start(b"5550123", &mut spans), Some(7));
        assert_eq!(spans[0], Some((0, 7)));
        assert_eq!(nanp.match_start(b"12025550123", &mut spans), Some(1));
        assert_eq!(spans[0], None);
        // Greedy: the longest repetition is tried first.
        let greedy = Pattern::compile(r"(\d{1,3})").unwrap();
        assert_eq!(greedy.match_start(b"12345", &mut spans), Some(3));
    }

    #[test]
    fn first_digits_are_those_a_match_can_start_with() {
        let first = |pattern: &str| Pattern::compile(pattern).unwrap().first;
        assert_eq!(first(r"7\d{9}|8[0-2]\d"), 0b1_1000_0000);
        assert_eq!(first(r"(?:1|2?)3"), 0b1110);
        assert_eq!(first(r"\d?"), ALL_DIGITS);
        assert_eq!(first(r""), ALL_DIGITS);
        assert!(!full(r"7\d{9}|8[0-2]\d", "9000000000"));
        assert!(full(r"(?:1|2?)3", "3"));
    }

    #[test]
    fn alternations_by_first_digit_match_as_in_order() {
        let pattern = Pattern::compile(r"1[0-2]\d|2(?:0|3\d)|[89]").unwrap();
        assert_eq!(pattern.tables.len(), 2, "{pattern:?}");
        for (digits, expected) in [
            ("100", true),
            ("131", false),
            ("20", true),
            ("234", true),
            ("21", false),
            ("8", true),
            ("9", true),
            ("7", false),
            ("", false),
        ] {
            assert_eq!(pattern.matches(digits.as_bytes()), expected, "{digits}");
        }
        // Overlapping or optional branches are tried in order.
        assert!(Pattern::compile(r"12|1").unwrap().tables.is_empty());
        assert!(Pattern::compile(r"1|2?").unwrap().tables.is_empty());
        let mut spans = [None; 1];
        let captured = Pattern::compile(r"(?:(1)2|3)4").unwrap();
        assert_eq!(captured.match_start(b"1245", &mut spans), Some(3));
        assert_eq!(spans, [Some((0, 1))]);
    }

    #[test]
    fn unsupported_syntax_is_refused() {
        for pattern in [r"a", r"\w", r"(?=1)", r"1*", r"[^1]", r"(1", r"1{2", r"1)"] {
            assert!(Pattern::compile(pattern).is_err(), "{pattern}");
        }
    }
}
