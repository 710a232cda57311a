// `node bench/profile-summary.ts <file.cpuprofile> [top] [last seconds]`: a `--cpu-prof` profile's
// self time by function and by package/source file, as shares of the samples, plus the idle share,
// so profiles taken under different machine loads compare by their relative costs. With a last
// argument, only the samples of the profile's final seconds count (the load, not the start-up).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg, lastArg] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: node bench/profile-summary.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
const fromUs = lastArg === undefined ? profile.startTime : profile.endTime - Number(lastArg) * 1e6;
let atUs = profile.startTime;
profile.samples.forEach((id, i) => {
  const deltaUs = profile.timeDeltas[i] ?? 0;
  atUs += deltaUs;
  if (atUs >= fromUs) selfUs.set(id, (selfUs.get(id) ?? 0) + deltaUs);
});
const totalUs = profile.endTime - Math.max(fromUs, profile.startTime);

/** Where a source file belongs: a package under node_modules, node's own, or a project file. */
function area(url: string): string {
  if (url === '') return '(native/VM)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules !== null) return modules[1]!;
  if (url.startsWith('node:')) return url;
  const project = /\/(src|bench|test)\/(.*)$/.exec(url);
  return project === null ? url : `${project[1]}/${project[2]}`;
}

const byFunction = new Map<string, number>();
const byArea = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  const name = `${functionName || '(anonymous)'} ${url === '' ? '' : `${area(url)}:${lineNumber + 1}`}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  const where = ['(idle)', '(program)', '(garbage collector)'].includes(functionName) ? functionName : area(url);
  byArea.set(where, (byArea.get(where) ?? 0) + us);
}
const idle = byArea.get('(idle)') ?? 0;
const busy = totalUs - idle;
const pct = (us: number, of: number) => `${((100 * us) / of).toFixed(1)}%`.padStart(6);
console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s, idle ${pct(idle, totalUs)}; shares below are of busy time`);
console.log('\nby area (package, node module or project file):');
for (const [name, us] of [...byArea]
  .filter(([n]) => n !== '(idle)')
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  console.log(`  ${pct(us, busy)}  ${name}`);
console.log('\nby function (self time):');
for (const [name, us] of [...byFunction]
  .filter(([n]) => !n.startsWith('(idle)'))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  console.log(`  ${pct(us, busy)}  ${name}`);
