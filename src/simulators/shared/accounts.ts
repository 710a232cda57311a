// Account holders as every simulator names them: deterministic from the account number, so tests
// can assert them, and an account number ending in 0000 never resolves.
const FIRST = ['Ada', 'Chinedu', 'Amina', 'Kofi', 'Wanjiru', 'Tunde', 'Zanele', 'Baraka'];
const LAST = ['Okafor', 'Mensah', 'Otieno', 'Adeyemi', 'Nkosi', 'Mwangi', 'Bello', 'Owusu'];

export function simulatedAccountName(accountNumber: string): string {
  const digits = accountNumber.replace(/\D/g, '');
  const seed = [...digits].reduce((sum, d) => sum * 31 + Number(d), 7);
  return `${FIRST[seed % FIRST.length]} ${LAST[Math.floor(seed / 7) % LAST.length]}`.toUpperCase();
}

export function accountResolves(accountNumber: string): boolean {
  return !accountNumber.endsWith('0000');
}
