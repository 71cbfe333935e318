//! The ROCA fingerprint (CVE-2017-15361, Nemec et al., CCS 2017): RSA moduli made by the
//! vulnerable Infineon library are, modulo each of a few small primes, a power of 65537.
//! Such a key's private key can be computed from its public key, so it is refused.
//! A random modulus passes every prime's test with negligible probability.

/// The primes of the published detector (the product of these orders is what the
/// vulnerable generator's structure forces).
const PRIMES: [u32; 38] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
];

fn modulo(n: &rsa::BigUint, p: u32) -> u32 {
    n.to_bytes_be()
        .iter()
        .fold(0u64, |acc, b| (acc * 256 + u64::from(*b)) % u64::from(p)) as u32
}

fn in_subgroup_of_65537(residue: u32, p: u32) -> bool {
    let g = 65537 % p;
    let mut x = 1u32;
    for _ in 0..p {
        if x == residue {
            return true;
        }
        x = ((u64::from(x) * u64::from(g)) % u64::from(p)) as u32;
    }
    false
}

/// Whether `n` has the ROCA fingerprint.
pub fn has_roca_fingerprint(n: &rsa::BigUint) -> bool {
    PRIMES
        .iter()
        .all(|&p| in_subgroup_of_65537(modulo(n, p), p))
}
