// Names for the values a rewrite adds: derived from the node's output, never one the graph uses.

export function nameMaker(taken: Set<string>, tag: string): (base: string) => string {
  let counter = 0;
  return (base) => {
    let name: string;
    do name = `${base}.${tag}${counter++}`;
    while (taken.has(name));
    taken.add(name);
    return name;
  };
}
