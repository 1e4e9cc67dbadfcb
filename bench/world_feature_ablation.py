"""Ceilings of the built-in world when a model cannot tell some response kinds apart (stdlib only).
Usage: python3 world_feature_ablation.py TRAIN.jsonl TEST.jsonl
Each line maps every response to an observable class (e.g. a wrong answer looks like the correct one), picks per pair of
classes the side that wins more often in TRAIN (by p_true), and prints the expected test accuracy of that rule (by p_true):
the best any model blind to that difference can do. "full kind+family" reproduces the Bayes bound."""
import json,sys,collections
tr=[json.loads(l) for l in open(sys.argv[1])]
te=[json.loads(l) for l in open(sys.argv[2])]
SURF={'polite','padded','repeated','keyword_stuffing','rude'}
def run(name, obs):
    # obs(kind, pair) -> observable class
    st=collections.defaultdict(float); cnt=collections.defaultdict(int)
    for d in tr:
        a=obs(d['kind_chosen'],d); b=obs(d['kind_rejected'],d)
        if a==b: continue
        key=(min(a,b),max(a,b)); first_wins = 1.0 if a==key[0] else 0.0
        # expected P(key[0] wins) using p_true: chosen won with p_true
        p0 = d['p_true'] if a==key[0] else 1-d['p_true']
        st[key]+=p0; cnt[key]+=1
    tot=0.0
    for d in te:
        a=obs(d['kind_chosen'],d); b=obs(d['kind_rejected'],d)
        if a==b: tot+=0.5; continue
        key=(min(a,b),max(a,b))
        p0=st[key]/cnt[key] if cnt[key] else 0.5
        pick_chosen = (p0>=0.5) == (a==key[0])
        tot += d['p_true'] if pick_chosen else 1-d['p_true']
    print(f"{name:45s} {tot/len(te):.4f}")
fam=lambda d:d['category']
run('full kind+family', lambda k,d:(fam(d),k))
run('kind only', lambda k,d:k)
run('no wrong vs correct', lambda k,d:(fam(d),'correct' if k=='wrong_answer' else k))
run('no off_topic vs correct', lambda k,d:(fam(d),'correct' if k=='off_topic' else k))
run('no wrong, no off_topic', lambda k,d:(fam(d),'correct' if k in('off_topic','wrong_answer') else k))
run('no surface (variants=correct)', lambda k,d:(fam(d),'correct' if k in SURF else k))
run('no surface,no wrong,no off', lambda k,d:(fam(d),'correct' if k in SURF|{'off_topic','wrong_answer'} else k))
