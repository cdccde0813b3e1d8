/*
 * rules.c — the rule catalogue (SPEC §3): every rule's id, severity and the
 * bokmål texts that feedback files and docs/rules.md show a municipality.
 *
 * Owns: the one table. The validator looks rules up here for their
 * severity, the feedback renderer for title/explanation/fix, and
 * tools/kpr-rules generates docs/rules.md from it (check_rules fails when the
 * committed document differs), so wording changes in exactly one place.
 * Must not: contain logic; a changed text or severity bumps
 * KPR_RULESET_VERSION (kpr.h).
 *
 * The table is sorted by id (checked by the unit test) so rules_find can
 * binary-search it. Texts are written for a municipal IT or archive person:
 * what is checked and why, then what to do in the care-records system.
 * They never promise more than the rule checks.
 */
#include "rules.h"

#include <string.h>

const struct rule_def rules_catalogue[] = {
    /* ---- F: the file as a whole ------------------------------------- */
    {
	"F001",
	SEV_FATAL,
	"Filen er ikke gyldig XML",
	"Filen kan ikke leses som XML. Enten er den ikke velformet (for eksempel et "
	"element som ikke er avsluttet, eller en fil som er avkuttet under "
	"overføringen), tegnkodingen stemmer ikke med den som er oppgitt i "
	"XML-deklarasjonen (UTF-8 eller ISO-8859-1), eller filen inneholder en "
	"DOCTYPE-deklarasjon. DOCTYPE avvises av sikkerhetshensyn, fordi den kan "
	"brukes til å hente inn eksterne filer eller blåse opp innholdet. Når filen "
	"ikke kan leses, blir ingenting i den lastet, og forrige godkjente innsending "
	"gjelder fortsatt.",
	"Lag uttrekket på nytt i fagsystemet og send hele filen igjen. Kontroller at "
	"filen ikke er redigert for hånd eller lagret på nytt i et annet program, at "
	"tegnkodingen i XML-deklarasjonen stemmer med innholdet, og at filen ikke har "
	"DOCTYPE. Linjenummeret i meldingen viser hvor feilen ble oppdaget. Kommer "
	"feilen igjen, kontakt leverandøren av fagsystemet.",
    },
    {
	"F002",
	SEV_FATAL,
	"Filen følger ikke XML-skjemaet",
	"Filen er velformet XML, men oppbygningen eller datatypene stemmer ikke med "
	"XML-skjemaet (XSD) for KPR-innsending: et element står på feil sted eller i "
	"feil rekkefølge, et påkrevd attributt mangler, et ukjent element eller "
	"attributt er brukt, eller en verdi har feil format (for eksempel en dato som "
	"ikke er skrevet ÅÅÅÅ-MM-DD, eller et tall med komma som desimaltegn). "
	"Skjemaet beskriver formatet alle fagsystemer skal følge, og en fil som bryter "
	"det, kan ikke tolkes sikkert. Ingenting blir lastet.",
	"Se elementet og linjenummeret i meldingen. Dette er nesten alltid en feil i "
	"eksportfunksjonen i fagsystemet og ikke i registreringene, så send meldingen "
	"til leverandøren. Leverandøren kan kontrollere filen mot skjemaet før den "
	"sendes, for eksempel med kpr-validate.",
    },
    {
	"F003",
	SEV_FATAL,
	"Kommunenummeret stemmer ikke med innsenderen",
	"Kommunenummeret i Avsender/@kommunenummer er ikke det kommunenummeret "
	"tilgangen (tokenet) som ble brukt til opplastingen, er utstedt for. En kommune "
	"kan bare sende inn egne data. Kontrollen hindrer at en kommunes innsending ved "
	"en feil erstatter en annen kommunes data. Ingenting blir lastet.",
	"Kontroller at kommunenummeret i filen er riktig (fire siffer med innledende "
	"null, for eksempel 0301) og at dere bruker tilgangen som er utstedt for deres "
	"egen kommune. Sender dere for flere kommuner, for eksempel i et "
	"interkommunalt samarbeid, må hver kommunes fil sendes med den kommunens egen "
	"tilgang.",
    },
    {
	"F004",
	SEV_FATAL,
	"Kommunenummeret er ikke gyldig for årgangen",
	"Kommunenummeret i Avsender/@kommunenummer finnes ikke i kommunelisten (SSBs "
	"standard for kommuneinndeling) slik den var 31. desember i årgangen filen "
	"gjelder. Det skjer typisk etter kommune- eller fylkesendringer, når "
	"fagsystemet fortsatt bruker et gammelt kommunenummer. Ingenting blir lastet.",
	"Bruk kommunenummeret som gjaldt 31. desember i årgangen. Etter en kommune- "
	"eller fylkesendring må kommunenummeret oppdateres i oppsettet av "
	"fagsystemet. Kontakt leverandøren hvis dere ikke kan endre det selv.",
    },
    {
	"F005",
	SEV_FATAL,
	"Årgangen er ikke åpen for innsending",
	"Attributtet aargang oppgir et år som registeret ikke tar imot data for nå. "
	"Årgangen er året dataene gjelder, og normalt er bare fjorårets årgang åpen i "
	"innsendingsperioden fra 1. januar. En feil årgang skyldes ofte at uttrekket "
	"er laget for feil periode, eller at en gammel fil er sendt på nytt. Ingenting "
	"blir lastet.",
	"Lag uttrekket for riktig år (året dataene gjelder, ikke året filen sendes) og "
	"send filen på nytt. Må dere rette data for en årgang som er stengt, ta "
	"kontakt med KPR.",
    },
    {
	"F006",
	SEV_FATAL,
	"Filen er for stor eller inneholder ingen personer",
	"Filen er større enn det som er tillatt for én innsending, eller den "
	"inneholder ikke et eneste Person-element. En tom fil ville erstattet "
	"kommunens forrige innsending med ingenting, og blir derfor avvist. Ingenting "
	"blir lastet.",
	"Er filen tom, kontroller utvalget i uttrekket (periode, enheter og "
	"tjenester) og lag det på nytt. Er filen for stor, kontroller at den ikke "
	"inneholder flere årganger eller de samme personene flere ganger. Filen kan "
	"sendes komprimert med gzip. Kontakt KPR hvis en riktig fil likevel er for "
	"stor.",
    },
    {
	"F007",
	SEV_WARNING,
	"Forrige innsending stemmer ikke",
	"Attributtet forrigeId skal inneholde id-en til kommunens forrige innsending "
	"for årgangen, slik at en innsending som har gått tapt, blir oppdaget. "
	"Verdien stemmer ikke med den siste innsendingen registeret har fått fra "
	"kommunen. Filen er likevel tatt imot og erstatter den forrige innsendingen "
	"når den blir godkjent.",
	"Kontroller i oversikten over innsendinger at alle filene dere har sendt, er "
	"mottatt, og at denne filen er den som skal gjelde. Sørg for at fagsystemet "
	"fører id-en til forrige innsending inn i forrigeId.",
    },

    /* ---- R1: the person and the national ID ------------------------- */
    {
	"R101",
	SEV_ERROR,
	"Fødselsnummer mangler",
	"Personen har ikke noe Fnr-element, eller elementet er tomt. Uten "
	"fødselsnummer, D-nummer eller H-nummer kan tjenestene ikke knyttes til riktig "
	"person på tvers av kommuner og år. Hele personen med alle registreringer "
	"blir utelatt.",
	"Registrer fødselsnummeret i fagsystemet og send en ny fil. Har personen ikke "
	"norsk fødselsnummer, bruk D-nummer fra Folkeregisteret eller H-nummer "
	"(hjelpenummer) som helsetjenesten har tildelt.",
    },
    {
	"R102",
	SEV_ERROR,
	"Fødselsnummeret har ikke 11 siffer",
	"Fnr skal bestå av nøyaktig 11 siffer og ingenting annet. Verdien har feil "
	"lengde eller inneholder andre tegn, for eksempel mellomrom, bindestrek eller "
	"bokstaver. Av personvernhensyn viser meldingen bare de seks første tegnene. "
	"Personen blir ikke lastet.",
	"Rett fødselsnummeret i fagsystemet slik at det har 11 siffer uten "
	"mellomrom eller skilletegn. Er feltet brukt til noe annet, for eksempel et "
	"internt journalnummer, må det rettes i fagsystemet.",
    },
    {
	"R103",
	SEV_ERROR,
	"Ugyldige kontrollsiffer i fødselsnummeret",
	"De to siste sifrene i et fødselsnummer er kontrollsiffer som regnes ut fra "
	"de ni første (modulus 11). Her stemmer de ikke, så nummeret er feilskrevet "
	"eller ikke et ekte nummer. Nummer der første kontrollsiffer følger den nye "
	"regelen Skatteetaten innfører for nummer som tildeles fra 2032, godtas. Nummer "
	"som bare består av ett og samme siffer, for eksempel bare nuller, avvises "
	"alltid. Personen blir ikke lastet.",
	"Kontroller nummeret mot Folkeregisteret og rett det i fagsystemet. Ofte er to "
	"siffer byttet om eller ett siffer skrevet feil. Bruk aldri oppdiktede eller "
	"midlertidige nummer; har personen ikke fødselsnummer, bruk D-nummer eller "
	"H-nummer.",
    },
    {
	"R104",
	SEV_ERROR,
	"Fødselsnummeret har ingen gyldig fødselsdato",
	"De seks første sifrene er fødselsdatoen (DDMMÅÅ). I D-nummer er 4 lagt til "
	"første siffer (dag + 40), og i H-nummer er 4 lagt til tredje siffer "
	"(måned + 40). Århundret leses ut av individnummeret (siffer 7–9) sammen med "
	"årstallet. Her gir nummeret ingen virkelig dato, for eksempel 31. februar, "
	"29. februar i et år som ikke er skuddår, eller en kombinasjon av "
	"individnummer og årstall som ikke blir tildelt. Syntetiske testnummer "
	"(måned + 80) godtas bare når serveren kjører i testmodus. Personen blir ikke "
	"lastet.",
	"Kontroller nummeret mot Folkeregisteret og rett det i fagsystemet. "
	"Syntetiske testpersoner (for eksempel fra Skatteetatens testmiljø Tenor) skal "
	"ikke sendes til produksjon; fjern dem fra uttrekket.",
    },
    {
	"R105",
	SEV_ERROR,
	"Samme fødselsnummer på flere personer",
	"To eller flere Person-elementer i filen har samme fødselsnummer. Registeret "
	"kan da ikke vite hvilke opplysninger som hører til personen, og ingen av dem "
	"blir lastet. Meldingen viser ref for alle personene det gjelder, aldri "
	"fødselsnummeret. Vanlige årsaker er at samme person er registrert to ganger i "
	"fagsystemet, eller at fødselsnummeret er skrevet inn på feil journal.",
	"Finn journalene med ref-ene i meldingen. Slå sammen dobbeltregistreringer, "
	"eller rett fødselsnummeret på den journalen som er feil, og send en ny fil.",
    },
    {
	"R106",
	SEV_ERROR,
	"Ref mangler, er brukt flere ganger eller ligner et fødselsnummer",
	"Attributtet ref er kommunens egen referanse til personen, for eksempel "
	"journalnummeret. Tilbakemeldingen bruker ref og linjenummer for å vise "
	"hvilken journal en melding gjelder, aldri fødselsnummeret. Ref sammenlignes "
	"og vises nøyaktig slik den er skrevet (for eksempel 0301-0000123, "
	"2024/123456-01, en UUID eller bokstaver som æøå). Her mangler ref, den er "
	"lengre enn 64 tegn eller har kontrolltegn, den er brukt på flere personer i "
	"filen, eller den inneholder et fødselsnummer: 11 siffer på rad, eller 6 og "
	"5 siffer med ett mellomrom, - eller . mellom, som har gyldige kontrollsiffer "
	"og dato. Et fødselsnummer i ref ville spredt fødselsnummeret til "
	"tilbakemeldingsfiler og registeret.",
	"Sørg for at fagsystemet setter en unik intern referanse (1–64 tegn) på hver "
	"person, for eksempel journalnummer eller brukernummer. Bruk aldri "
	"fødselsnummeret som referanse.",
    },
    {
	"R107",
	SEV_WARNING,
	"Fødselsåret stemmer ikke med fødselsnummeret",
	"Fodselsaar er et annet år enn fødselsåret som leses ut av fødselsnummeret "
	"(fødselsdato og individnummer). Personen blir lastet, men en av verdiene er "
	"trolig feil.",
	"Kontroller fødselsåret og fødselsnummeret mot Folkeregisteret, og rett den "
	"verdien som er feil i fagsystemet. Elementet Fodselsaar kan utelates; da "
	"brukes året fra fødselsnummeret.",
    },
    {
	"R108",
	SEV_ERROR,
	"Kjønn mangler eller er ugyldig",
	"Kjonn skal være 1 (mann) eller 2 (kvinne). Elementet mangler, eller det har "
	"en annen verdi. Kjønn trengs i all statistikk fra registeret.",
	"Registrer kjønn i fagsystemet (1 = mann, 2 = kvinne) slik det står i "
	"Folkeregisteret, og send en ny fil. Bruker fagsystemet egne koder, for "
	"eksempel M og K, må leverandøren oversette dem til KPR-kodene.",
    },
    {
	"R109",
	SEV_WARNING,
	"Dødsdatoen passer ikke med andre datoer",
	"Dodsdato er tidligere enn startdatoen for en tjeneste eller datoen for en "
	"funksjonsvurdering, eller den ligger i et senere år enn årgangen. En person "
	"kan ikke begynne å få tjenester eller bli vurdert etter sin død, og en "
	"årgangsfil skal ikke inneholde dødsfall etter årgangens slutt. "
	"Registreringene blir lastet, men minst én av datoene er trolig feil.",
	"Kontroller dødsdatoen mot Folkeregisteret og datoene på tjenestene og "
	"vurderingene, og rett den datoen som er feil i fagsystemet.",
    },

    /* ---- R2: function assessments (Vurdering) ------------------------ */
    {
	"R201",
	SEV_ERROR,
	"Ugyldig skår på funksjon",
	"Funksjon/@skaar skal være 1, 2, 3, 4, 5 eller 9 (IPLOS-skalaen: 1 ingen "
	"problemer, 2 noen problemer, men ikke behov for bistand, 3 middels store "
	"problemer, 4 store problemer, 5 fullt bistandsbehov, 9 ikke relevant). "
	"Verdien er utenfor skalaen og kan ikke brukes.",
	"Rett skåren i funksjonsvurderingen i fagsystemet. Bruker fagsystemet egne "
	"verdier, for eksempel 0 eller 6, må leverandøren oversette dem til "
	"IPLOS-skalaen.",
    },
    {
	"R202",
	SEV_ERROR,
	"Funksjonsvurderingen er ufullstendig",
	"En Vurdering skal inneholde nøyaktig de 17 IPLOS-funksjonene (kode 1–17), "
	"hver nøyaktig én gang. Her mangler en eller flere funksjoner, en funksjon "
	"står flere ganger, eller en ukjent funksjonskode er brukt. En ufullstendig "
	"vurdering gir ikke et riktig bilde av bistandsbehovet, og vurderingen blir "
	"ikke lastet.",
	"Fullfør vurderingen i fagsystemet slik at alle 17 funksjoner er skåret (bruk "
	"9, ikke relevant, der det er riktig), fjern dobbeltregistreringer, og send en "
	"ny fil.",
    },
    {
	"R203",
	SEV_ERROR,
	"Vurderingsdatoen er etter uttrekket eller etter årgangen",
	"Vurdering/@dato er senere enn tidspunktet filen ble laget "
	"(Innsending/@opprettet), eller senere enn 31. desember i årgangen. En "
	"vurdering kan ikke være gjort fram i tid, og vurderinger fra etter nyttår "
	"hører til neste årgang. Vurderingen blir ikke lastet.",
	"Kontroller datoen på vurderingen i fagsystemet. Er datoen riktig, hører "
	"vurderingen til neste årgang og skal ikke være med i denne filen; er den "
	"feil, rett den og send en ny fil.",
    },
    {
	"R204",
	SEV_WARNING,
	"«Ikke relevant» brukt for Toalett, Syn eller Hørsel",
	"Skår 9 (ikke relevant) er brukt for funksjon 11 Toalett, 13 Syn eller "
	"14 Hørsel. Disse funksjonene er relevante for alle, så skår 9 skal ikke "
	"brukes for dem. Vurderingen blir lastet, men skåren er trolig feil.",
	"Vurder funksjonen på nytt og sett en skår fra 1 til 5. Har personen ingen "
	"problemer med funksjonen, er riktig skår 1.",
    },

    /* ---- R3: services (Tjeneste) ------------------------------------ */
    {
	"R301",
	SEV_ERROR,
	"Ugyldig tjenestetype for årgangen",
	"Tjeneste/@type er ikke en kode i IPLOS-kodeverket for tjenestetyper "
	"(OID 2.16.578.1.12.4.1.1.9151) som er gyldig i årgangen. Koden finnes ikke, "
	"den er tatt ut av kodeverket, eller den er innført etter årgangen. Tjenesten "
	"blir ikke lastet.",
	"Kontroller at tjenesten er koblet til riktig IPLOS-tjenestetype i oppsettet "
	"av fagsystemet. Gyldige koder med gyldighetsperioder står i kodelisten "
	"(config/codelists.csv). Når koder blir innført eller tatt ut, må leverandøren "
	"oppdatere fagsystemet.",
    },
    {
	"R302",
	SEV_ERROR,
	"Datoene på tjenesten står i feil rekkefølge",
	"Sluttdatoen (slutt) er før startdatoen (start), eller vedtaksdatoen (vedtak) "
	"er før søknadsdatoen (soknad). Da kan datoene ikke brukes til å regne ut "
	"varighet eller saksbehandlingstid, og tjenesten blir ikke lastet.",
	"Rett datoene i vedtaket i fagsystemet. Se særlig etter byttet dag og måned "
	"og feil årstall.",
    },
    {
	"R303",
	SEV_ERROR,
	"Tjenesten ligger utenfor årgangen",
	"Tjenesten starter etter 31. desember i årgangen, eller den sluttet før "
	"1. januar i årgangen. Filen skal bare inneholde tjenester som har vært i gang "
	"en eller annen gang i løpet av årgangen. Tjenesten blir ikke lastet.",
	"Kontroller start- og sluttdatoen. Er datoene riktige, hører tjenesten ikke "
	"til denne årgangen; meld fra til leverandøren hvis uttrekket tar med "
	"tjenester som var avsluttet før årgangen eller starter etter den.",
    },
    {
	"R304",
	SEV_ERROR,
	"Ugyldig antall timer per uke",
	"timerPerUke eller timerMedFlere er negativ eller større enn 168, som er "
	"antall timer i en uke. Tjenesten blir ikke lastet.",
	"Kontroller omfanget i vedtaket. Timer oppgis per uke, med punktum som "
	"desimaltegn (for eksempel 5.5). Er omfanget registrert per måned eller per "
	"døgn, må det regnes om til timer per uke.",
    },
    {
	"R305",
	SEV_ERROR,
	"Timer med flere er lavere enn timer per uke",
	"timerMedFlere teller tiden for alle tjenesteytere som er til stede samtidig, "
	"og kan derfor aldri være lavere enn timerPerUke. Her er den lavere. "
	"Tjenesten blir ikke lastet.",
	"Kontroller de to timefeltene i vedtaket. Er det bare én tjenesteyter til "
	"stede, skal timerMedFlere være lik timerPerUke. Er verdiene byttet om, rett "
	"dem i fagsystemet.",
    },
    {
	"R306",
	SEV_ERROR,
	"Avslag og startdato stemmer ikke overens",
	"En tjeneste med avslag=\"true\" kan ikke ha startdato, og en tjeneste som er "
	"innvilget (har vedtaksdato og ikke avslag) må ha startdato. En søknad som "
	"ennå ikke er avgjort (bare søknadsdato, uten vedtak), er i orden. Tjenesten "
	"blir ikke lastet.",
	"Kontroller vedtaket i fagsystemet. Er søknaden avslått, fjern startdatoen. "
	"Er tjenesten innvilget, registrer datoen tjenesten startet eller skal "
	"starte.",
    },
    {
	"R307",
	SEV_WARNING,
	"Organisasjonsnummer mangler eller er ugyldig",
	"Institusjonstjenester (tjenestetype 8, 17, 18, 19, 20, 21, 22 og 25) skal "
	"ha organisasjonsnummeret (orgnr) til institusjonen der tjenesten gis. "
	"Nummeret mangler, eller det har feil kontrollsiffer (9 siffer, "
	"modulus 11). Tjenesten blir lastet, men kan ikke knyttes til riktig "
	"institusjon. Et orgnr som ser ut til å inneholde et fødselsnummer, eller "
	"som er lengre enn 64 tegn, lagres ikke.",
	"Registrer organisasjonsnummeret til institusjonen i fagsystemet slik det "
	"står i Enhetsregisteret (Brønnøysundregistrene). Bruk nummeret til "
	"institusjonen (underenheten), ikke kommunens eget organisasjonsnummer.",
    },
    {
	"R308",
	SEV_WARNING,
	"Overlappende tjenester av samme type",
	"Personen har to tjenester av samme type der periodene fra start til slutt "
	"overlapper. Det skyldes ofte at et nytt vedtak er registrert uten at det "
	"gamle er avsluttet, og gir dobbelttelling av tjenester og timer.",
	"Kontroller vedtakene for personen. Avslutt det gamle vedtaket dagen før det "
	"nye starter, eller slå sammen vedtakene hvis de gjelder samme tjeneste.",
    },
    {
	"R309",
	SEV_WARNING,
	"Tjeneste uten funksjonsvurdering i årgangen",
	"Personen har fått en tjeneste av type 1, 2, 3, 15, 18, 19, 20, 21 eller 22 "
	"(tjenesten har startdato), men har ingen godkjent funksjonsvurdering "
	"(Vurdering) datert i årgangen. For disse tjenestene skal bistandsbehovet "
	"vurderes og registreres. En vurdering som selv har feil, regnes ikke som "
	"godkjent.",
	"Gjennomfør og registrer en funksjonsvurdering med alle 17 funksjoner. "
	"Finnes vurderingen allerede, kontroller at den har riktig dato og at den "
	"ikke har feil som gjør at den blir avvist.",
    },
    {
	"R310",
	SEV_WARNING,
	"Funksjonsvurderingen er ikke oppdatert ved nytt vedtak",
	"Den siste funksjonsvurderingen er mer enn 12 måneder eldre enn det siste "
	"vedtaket om tjenester. Når det fattes et nytt vedtak, bør bistandsbehovet "
	"vurderes på nytt, slik at registeret viser behovet slik det var da vedtaket "
	"ble fattet.",
	"Oppdater funksjonsvurderingen i fagsystemet når det fattes nye vedtak, og "
	"registrer den med riktig dato.",
    },

    /* ---- R4: diagnoses and other person data ------------------------- */
    {
	"R401",
	SEV_ERROR,
	"Ugyldig diagnosekode",
	"Diagnose/@kodeverk skal være ICD-10 eller ICPC-2, og koden må ha riktig form "
	"for kodeverket: ICD-10 er en bokstav og to siffer, eventuelt fulgt av punktum "
	"og ett eller to siffer (for eksempel F00.1); ICPC-2 er en bokstav og to "
	"siffer (for eksempel K74). Diagnosen blir ikke lastet.",
	"Kontroller kodeverk og kode i fagsystemet. Oppgi bare selve koden, uten "
	"mellomrom eller beskrivende tekst, og oppgi kodeverket nøyaktig som ICD-10 "
	"eller ICPC-2.",
    },
    {
	"R402",
	SEV_WARNING,
	"Legemiddelgjennomgang uten institusjonsopphold",
	"Legemiddelgjennomgang er rapportert for en person som ikke har noe opphold i "
	"institusjon (tjenestetype 18, 19, 20 eller 21) i årgangen. Enten mangler "
	"oppholdet i filen, eller legemiddelgjennomgangen er registrert på feil "
	"person.",
	"Kontroller at institusjonsoppholdet er registrert med riktig tjenestetype og "
	"datoer. Har personen ikke hatt institusjonsopphold, kontroller at "
	"legemiddelgjennomgangen er registrert på riktig person.",
    },
    {
	"R403",
	SEV_WARNING,
	"Ernæringsvurdering mangler ved institusjonsopphold",
	"Personen har opphold i institusjon (tjenestetype 18, 19, 20 eller 21) i "
	"årgangen, men ingen vurdering av ernæringsmessig risiko (Ernaering) i "
	"årgangen. Pasienter i institusjon skal vurderes for ernæringsmessig risiko.",
	"Registrer ernæringsvurderingen (risiko ja eller nei, med dato) i "
	"fagsystemet. Er vurderingen gjort, men ikke med i filen, kontroller datoen "
	"og meld fra til leverandøren.",
    },
    {
	"R404",
	SEV_WARNING,
	"Venteliste for person med langtidsopphold",
	"Personen står på venteliste (Venteliste) samtidig som hun eller han har et "
	"pågående langtidsopphold i institusjon (tjenestetype 21). Den som allerede "
	"har langtidsopphold, venter normalt ikke på plass, så ventelisteoppføringen "
	"er trolig ikke avsluttet.",
	"Kontroller om personen fortsatt skal stå på venteliste, og avslutt "
	"ventelisteoppføringen i fagsystemet hvis ikke.",
    },
    {
	"R405",
	SEV_ERROR,
	"Ugyldig svarkode",
	"IndividuellPlan/@kode og Koordinator/@kode skal være 1 (ja), 2 (nei, ikke "
	"utarbeidet eller oppnevnt), 3 (nei, ønsker ikke) eller 4 (nei, oppfyller "
	"ikke retten). Heldogn/@svar og Legemiddelgjennomgang/@svar skal være 1 (ja) "
	"eller 2 (nei), og Ernaering/@risiko skal være 1 (ja, i risiko) eller "
	"2 (nei). Verdien er ingen av disse, og elementet blir ikke lastet.",
	"Kontroller registreringen i fagsystemet og velg en av de gyldige kodene. "
	"Ukjente verdier skyldes ofte at fagsystemet bruker egne koder som ikke er "
	"oversatt til KPR-kodene; meld i så fall fra til leverandøren.",
    },
};

const size_t rules_catalogue_len = KPR_ARRAY_LEN(rules_catalogue);

const struct rule_def *rules_find(const char *id)
{
	if (id == NULL)
		return NULL;
	size_t lo = 0, hi = rules_catalogue_len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(rules_catalogue[mid].id, id);
		if (c == 0)
			return &rules_catalogue[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *severity_name(enum severity s)
{
	switch (s) {
	case SEV_FATAL:
		return "FATAL";
	case SEV_ERROR:
		return "ERROR";
	case SEV_WARNING:
		return "WARNING";
	case SEV_INFO:
		return "INFO";
	case SEV_COUNT:
		break;
	}
	return "UNKNOWN";
}

const char *severity_name_nb(enum severity s)
{
	switch (s) {
	case SEV_FATAL:
		return "Kritisk feil";
	case SEV_ERROR:
		return "Feil";
	case SEV_WARNING:
		return "Advarsel";
	case SEV_INFO:
		return "Informasjon";
	case SEV_COUNT:
		break;
	}
	return "Ukjent";
}
