"""Hand-written short words per language, for the replies n-gram models cannot read.

Why a word list at all: a tenant answers "ja", "tak", "evet", "haa" or "نعم". Character n-gram
detectors need a few letters more than that (lingua's low-accuracy mode returns nothing for two
letters), and on three to five letters they guess between look-alikes ("evet" reads as Swedish to
them). A whole-word match against the words a language uses all the time — reply words (yes, no,
ok, thanks, help, pay, tomorrow) and function words (pronouns, prepositions, conjunctions, the
copula) — is strong evidence the models lack.

Provenance: written from general knowledge of each language for Bokvar. Nothing here was taken
from, or checked word by word against, the language-identification benchmark in
``../shared/langid/``; that data is a measure, not training data.

A word may belong to several languages ("i" is Swedish, Polish and Bosnian; "ne" is Bosnian and
Turkish); the detector then treats it as evidence for each of them and lets the n-gram models
decide between them. Bosnian stands for the whole Bosnian/Croatian/Serbian group, in Latin and
Cyrillic spelling. Russian is listed so that a Russian reply is not read as Ukrainian.
"""

from __future__ import annotations

from types import MappingProxyType

_WORDS: dict[str, str] = {
    "sv": """
        ja nej jo okej  tack tackar hej hejsan hallå snälla hjälp hjälpa kan inte kanske
        jag du han hon vi ni de dem mig dig honom henne oss er sig min mitt mina din ditt dina
        och eller men att som det den detta denna dessa är var vara blir blev har hade ska skall
        kommer vill måste får fick göra gör gjorde betala betalar betalat hyra hyran pengar
        på av till från med för om ur vid hos under över efter innan sedan utan mot
        inte aldrig alltid nu idag imorgon igår senare snart sen här där hur vad vem vilken när
        varför också bara redan mycket lite mer allt alla något ingen inget en ett
        förlåt ursäkta förstår förstår inte vecka månad dag ringa ring mej dej åt så
    """,
    "en": """
        yes yeah yep no nope   thanks thank thx please hello hi hey help sorry
        i you he she we they me him her us them my your his its our their mine yours
        the a an and or but if that this these those what who which when where why how
        is are was were be been am do does did have has had will would can could should must
        not dont don't cant can't wont won't im i'm ill i'll
        to of in on at for with from by about into over after before under between
        now today tomorrow yesterday later soon here there very much more all some any
        pay paid rent money week month day call understand know want need
    """,
    "so": """
        haa haan maya mayo  waa wax waxaan waxay waxa ma maxaa maxay yaa ayaa ayuu ayay ayaan
        aniga adiga isaga iyada annaga anaga idinka iyaga aan aad uu ay aynu
        iyo ama laakiin haddii inuu inay inaan in oo ee ku ka la u soo sii kala ugu
        mahadsanid mahadsantahay mahadsanidiin fadlan caawimaad caawin i caawi nabad
        salaan waan ma aha maaha kuma kama lacag kirada kiro bixin bixiyo berri maanta shalay
        hadda dhawaan halkan halkaas sidee goorma xaggee maxay sababta wanaagsan fiican
        todobaad bil maalin wac ii wac fahmay fahmin garanayaa garan doonaa karaa kari
    """,
    "bs": """
        da ne nije nisam jesam jeste  okej hvala fala molim pomoć pomozite pomoc zdravo
        ćao cao dobro dobar može moze ne mogu mogu
        ja ti on ona ono mi vi oni one me te ga je nju nas vas njih moj moja moje tvoj tvoja
        i a ali ili ako da li što sto šta sta koji koja koje kad kada gdje gde zašto zasto kako
        sam si smo ste su bio bila bilo biti ću ćeš će ćemo ćete hoću neću imam imaš ima nema
        u na za od do sa s iz o po kod prema bez preko pred nakon
        sada sad danas sutra jučer juče kasnije uskoro ovdje ovde tamo vrlo jako još već sve
        platiti platit platiću kirija kiriju stanarina novac pare sedmica sedmicu tjedan mjesec
        dan nazovite nazovi razumijem razumem izvinite oprostite
        да не нисам хвала молим помоћ добро може ја ти он она ми ви они је и а али или ако
        шта што кад када где гдје зашто како сам си смо сте су ћу ће у на за од до са из
        сада данас сутра новац
    """,
    "tr": """
        evet hayır hayir tamam olur peki teşekkürler tesekkurler teşekkür sağol sagol sağ ol
        merhaba selam lütfen lutfen yardım yardim özür ozur
        ben sen o biz siz onlar beni seni onu bizi bana sana ona benim senin onun bizim
        ve veya ama fakat ile için icin gibi kadar sonra önce once çok cok az daha en
        bu şu su bunu şunu ne neden niye nasıl nasil nerede nereye kim hangi zaman
        var yok değil degil mi mı mu mü de da ki bir hiç hic her şey sey
        şimdi simdi bugün bugun yarın yarin dün dun sonra yakında burada orada
        ödeme odeme öderim oderim ödeyemem kira para hafta ay gün gun ara arayın arayin
        anladım anladim anlamadım anlamadim biliyorum bilmiyorum istiyorum yapabilirim
    """,
    "pl": """
        tak nie  okej dobrze dziękuję dziekuje dzięki dzieki proszę prosze cześć czesc
        dzień dobry pomoc pomocy przepraszam
        ja ty on ona ono my wy oni one mnie mi cię cie ciebie go jego jej nas was ich mój moj
        moja moje twój twoj twoja
        i a ale albo lub czy że ze żeby zeby bo jak jeśli jesli gdy kiedy gdzie dlaczego co
        kto który ktory która ktora które to ten ta te tego jest są sa był byl była byla będzie
        bedzie mam masz ma mamy nie mogę moge mogę może moze muszę musze chcę chce
        w we z ze na do od dla po o przez przy pod nad za u bez
        teraz dzisiaj dziś dzis jutro wczoraj później pozniej zaraz tutaj tam bardzo już juz
        jeszcze też tez wszystko zapłacić zaplacic zapłacę zaplace czynsz pieniądze pieniadze
        tydzień tydzien miesiąc miesiac dzień dzien zadzwoń zadzwon rozumiem nie rozumiem
    """,
    "fi": """
        kyllä kylla joo juu ei en eikä eika  okei kiitos kiitoksia hei moi terve
        ole hyvä ole hyva apua auta anteeksi
        minä mina sinä sina hän han me te he minun sinun hänen hanen meidän meidan teidän
        niiden minua sinua häntä minulle sinulle
        ja tai mutta että etta jos kun koska kuin vaan sekä seka myös myos vain jo vielä viela
        on ovat oli olivat olen olet olemme olette ole ollut olla ei en et emme ette eivät
        tämä tama tuo se nämä nama ne mikä mika mitä mita kuka missä missa miksi miten milloin
        nyt tänään tanaan huomenna eilen myöhemmin myohemmin pian täällä taalla siellä siella
        hyvin paljon vähän vahan kaikki jotain
        maksaa maksan maksu vuokra vuokran raha rahaa viikko kuukausi päivä paiva soita
        soittakaa ymmärrän ymmarran ymmärrä tiedän tiedan haluan voin voi pitää pitaa
    """,
    "uk": """
        так ні добре дякую будь ласка привіт вибачте допомога допоможіть
        я ти він вона воно ми ви вони мене тебе його її нас вас їх мені тобі йому їй нам вам
        мій моя моє твій твоя
        і й та або але якщо що щоб коли де чому як хто який яка яке це цей ця ці той
        є був була було буде бути маю має можу може можна треба не
        у в на з із зі до від для по про за під над без через при
        зараз сьогодні завтра вчора пізніше скоро тут там дуже вже ще теж також все всі
        заплатити заплачу оплата оренда гроші тиждень місяць день зателефонуйте подзвоніть
        розумію не розумію знаю хочу
    """,
    "ru": """
        да нет хорошо спасибо пожалуйста привет здравствуйте извините помощь помогите
        я ты он она оно мы вы они меня тебя его её ее нас вас их мне тебе ему ей нам вам
        мой моя моё мое твой твоя
        и или но если что чтобы когда где почему как кто какой какая какое это этот эта эти тот
        есть был была было будет быть могу может можно надо нужно не
        у в на с со к ко до от для по про за под над без через при из
        сейчас сегодня завтра вчера позже скоро тут здесь там очень уже ещё еще тоже также всё
        все заплатить заплачу оплата аренда деньги неделя месяц день позвоните понимаю
        не понимаю знаю хочу
    """,
    "ar": """
        نعم لا ايوه أيوه ايوا طيب تمام حسنا حسناً موافق شكرا شكراً مشكور مرحبا السلام عليكم
        من فضلك لو سمحت مساعدة ساعدني آسف اسف عفوا
        أنا انا أنت انت هو هي نحن أنتم انتم هم لي لك له لها لنا
        و أو او لكن إذا اذا إن ان أن لأن لان الذي التي هذا هذه ذلك تلك ما ماذا لماذا كيف متى
        أين اين من في على إلى الى عن مع بعد قبل عند حتى كان كانت يكون ليس لم لن قد هل
        الآن الان اليوم غدا غداً أمس امس لاحقا بعدين هنا هناك جدا كل شيء أي
        أدفع ادفع الدفع الإيجار الايجار فلوس مال أسبوع اسبوع شهر يوم اتصل اتصلوا أفهم افهم
        لا أفهم لا افهم أعرف اعرف أريد اريد أستطيع استطيع
    """,
    "fa": """
        بله بلی آره اره نه نخیر باشه خوب خب ممنون مرسی متشکرم متشکرم سلام لطفا لطفاً کمک
        ببخشید
        من تو او ما شما آنها انها ایشان مرا ترا
        و یا اما ولی اگر که چون این آن اون این‌ها چه چرا چطور چگونه کی کجا کدام
        است هست نیست بود بودم هستم هستیم هستند می نمی خواهم میخواهم می‌خواهم دارم ندارم
        میتوانم نمیتوانم نمی‌توانم
        در به از با برای تا روی زیر بدون پیش پس
        الان حالا امروز فردا دیروز بعدا بعداً زود اینجا آنجا خیلی همه چیز هیچ
        پرداخت میپردازم می‌پردازم اجاره پول هفته ماه روز زنگ بزنید میفهمم نمیفهمم می‌دانم
        نمی‌دانم میدانم نمیدانم
    """,
}


def _build() -> MappingProxyType[str, frozenset[str]]:
    """Split the blocks above into one frozen set of lower-case words per language."""
    return MappingProxyType({language: frozenset(block.lower().split()) for language, block in _WORDS.items()})


# language code -> words; read-only so no caller can change the detector's evidence.
WORDS: MappingProxyType[str, frozenset[str]] = _build()
