//! SHA-256 as a `const fn`, so every discriminator is computed from its name at compile time:
//! Anchor's `sha256("global:<instruction>")[..8]`, `sha256("account:<Type>")[..8]` and
//! `sha256("event:<Type>")[..8]`. The names in the code are the only source; the IDL is generated
//! from them (see `idl.rs`).

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
    0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
    0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
    0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const H0: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// The byte at `i` of the padded message: the data, 0x80, zeros, then the bit length (big-endian).
const fn padded_byte(data: &[u8], padded_len: usize, i: usize) -> u8 {
    let len = data.len();
    if i < len {
        data[i]
    } else if i == len {
        0x80
    } else if i >= padded_len - 8 {
        let bits = (len as u64) * 8;
        (bits >> ((padded_len - 1 - i) * 8)) as u8
    } else {
        0
    }
}

/// SHA-256 of `data` (FIPS 180-4).
pub const fn sha256(data: &[u8]) -> [u8; 32] {
    let padded_len = (data.len() + 9).div_ceil(64) * 64;
    let mut h = H0;
    let mut block = 0;
    while block < padded_len {
        let mut w = [0u32; 64];
        let mut t = 0;
        while t < 16 {
            let at = block + t * 4;
            w[t] = (padded_byte(data, padded_len, at) as u32) << 24
                | (padded_byte(data, padded_len, at + 1) as u32) << 16
                | (padded_byte(data, padded_len, at + 2) as u32) << 8
                | padded_byte(data, padded_len, at + 3) as u32;
            t += 1;
        }
        while t < 64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16].wrapping_add(s0).wrapping_add(w[t - 7]).wrapping_add(s1);
            t += 1;
        }
        let (mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
        t = 0;
        while t < 64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[t]).wrapping_add(w[t]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
            t += 1;
        }
        h = [
            h[0].wrapping_add(a),
            h[1].wrapping_add(b),
            h[2].wrapping_add(c),
            h[3].wrapping_add(d),
            h[4].wrapping_add(e),
            h[5].wrapping_add(f),
            h[6].wrapping_add(g),
            h[7].wrapping_add(hh),
        ];
        block += 64;
    }
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (h[i / 4] >> (24 - (i % 4) * 8)) as u8;
        i += 1;
    }
    out
}

/// The first eight bytes of sha256(`preimage`): an Anchor discriminator.
pub const fn discriminator(preimage: &str) -> [u8; 8] {
    let hash = sha256(preimage.as_bytes());
    [hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7]]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn matches_the_fips_test_vectors() {
        assert_eq!(hex(&sha256(b"")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex(&sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(
            hex(&sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        // 55, 56 and 64 bytes: the padding's edge cases.
        assert_eq!(hex(&sha256(&[b'a'; 55])), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
        assert_eq!(hex(&sha256(&[b'a'; 56])), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
        assert_eq!(hex(&sha256(&[b'a'; 64])), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    }

    #[test]
    fn gives_anchor_discriminators() {
        // As the IDL stated them before it was generated.
        assert_eq!(discriminator("global:initialize"), [175, 175, 109, 31, 13, 152, 155, 237]);
        assert_eq!(discriminator("account:Market"), [219, 190, 213, 55, 0, 227, 198, 154]);
        const AT_COMPILE_TIME: [u8; 8] = discriminator("global:liquidate");
        assert_eq!(AT_COMPILE_TIME, [223, 179, 226, 125, 48, 46, 39, 74]);
    }
}
