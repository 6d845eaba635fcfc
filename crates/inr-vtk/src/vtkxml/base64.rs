//! A streaming base64 decoder for VTK's binary payloads.
//!
//! VTK encodes the header and the data of a compressed array as two separate
//! base64 streams written back to back (`...AAA==eJzt...`), while an
//! uncompressed array is one stream. This decoder accepts both: a group with
//! `=` padding ends one stream and the next group starts the next, so the
//! decoded bytes are always the concatenation. Whitespace is skipped; a `<`
//! (the next tag) or the end of the input ends the data.

/// Why decoding stopped.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Base64Error {
    /// The input ended (or reached `<`) before the requested bytes.
    End,
    /// A character that is not base64, at this index of the input.
    BadChar(usize),
    /// Padding in a position where it cannot be.
    BadPadding(usize),
}

/// Decodes bytes on demand from base64 text.
pub(crate) struct Base64Reader<'a> {
    text: &'a [u8],
    pos: usize,
    /// Decoded bytes of the last group not yet handed out.
    pending: [u8; 3],
    pending_start: usize,
    pending_end: usize,
}

const INVALID: u8 = 0xff;

const fn decode_table() -> [u8; 256] {
    let mut table = [INVALID; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
}

static TABLE: [u8; 256] = decode_table();

impl<'a> Base64Reader<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Self {
        Base64Reader {
            text,
            pos: 0,
            pending: [0; 3],
            pending_start: 0,
            pending_end: 0,
        }
    }

    /// An upper bound on the bytes that can still be decoded: three per four
    /// characters left, whitespace included.
    pub(crate) fn bound(&self) -> usize {
        (self.text.len() - self.pos) / 4 * 3 + 3 + (self.pending_end - self.pending_start)
    }

    /// Decodes exactly `n` bytes. The caller checks `n` against
    /// [`bound`](Self::bound) before asking, so the allocation is backed by
    /// text that is really there.
    pub(crate) fn read(&mut self, n: usize) -> Result<Vec<u8>, Base64Error> {
        let mut out = Vec::with_capacity(n.min(self.bound()));
        while out.len() < n {
            if self.pending_start == self.pending_end {
                let got = self.next_group()?;
                self.pending_start = 0;
                self.pending_end = got;
            }
            let take = (self.pending_end - self.pending_start).min(n - out.len());
            out.extend_from_slice(&self.pending[self.pending_start..self.pending_start + take]);
            self.pending_start += take;
        }
        Ok(out)
    }

    /// The next significant character, skipping whitespace; `None` at the
    /// end of the input or at `<`.
    fn next_char(&mut self) -> Option<(usize, u8)> {
        while let Some(&c) = self.text.get(self.pos) {
            let at = self.pos;
            self.pos += 1;
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => continue,
                b'<' => {
                    self.pos = self.text.len();
                    return None;
                }
                _ => return Some((at, c)),
            }
        }
        None
    }

    /// Decodes one group of four characters into `pending`, returning how
    /// many bytes it holds (1 to 3).
    fn next_group(&mut self) -> Result<usize, Base64Error> {
        let mut sextets = [0u8; 4];
        let mut padding = 0;
        for (i, slot) in sextets.iter_mut().enumerate() {
            let (at, c) = self.next_char().ok_or(Base64Error::End)?;
            if c == b'=' {
                // Only the last one or two characters of a group may be padding.
                if i < 2 {
                    return Err(Base64Error::BadPadding(at));
                }
                padding += 1;
                continue;
            }
            if padding > 0 {
                return Err(Base64Error::BadPadding(at));
            }
            let v = TABLE[usize::from(c)];
            if v == INVALID {
                return Err(Base64Error::BadChar(at));
            }
            *slot = v;
        }
        let word = (u32::from(sextets[0]) << 18)
            | (u32::from(sextets[1]) << 12)
            | (u32::from(sextets[2]) << 6)
            | u32::from(sextets[3]);
        self.pending = [(word >> 16) as u8, (word >> 8) as u8, word as u8];
        Ok(3 - padding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_one_stream_and_concatenated_streams() {
        let mut r = Base64Reader::new(b"aGVsbG8gd29ybGQ=");
        assert_eq!(r.read(11).unwrap(), b"hello world");
        let mut r = Base64Reader::new(b"aGVs bG8=\n IHdv cmxk <tail");
        assert_eq!(r.read(5).unwrap(), b"hello");
        assert_eq!(r.read(6).unwrap(), b" world");
        assert_eq!(r.read(1), Err(Base64Error::End));
    }

    #[test]
    fn rejects_bad_characters_and_padding() {
        assert_eq!(
            Base64Reader::new(b"aG!s").read(1),
            Err(Base64Error::BadChar(2))
        );
        assert_eq!(
            Base64Reader::new(b"a===").read(1),
            Err(Base64Error::BadPadding(1))
        );
        assert_eq!(
            Base64Reader::new(b"aG=s").read(1),
            Err(Base64Error::BadPadding(3))
        );
    }
}
