import { ErrorSummary, Field, PostForm, type FormErrors } from '../../core/views/components.tsx';
import { Layout, type PageContext } from '../../core/views/layout.tsx';
import { CLOSE_LABELS } from './privacy.schemas.ts';

/** The links Profil shows to download one's data; also offered before closing. */
export function DownloadLinks() {
  return (
    <ul>
      <li>
        <a href="/profil/mes-donnees.json" download>
          Télécharger mes données au format JSON
        </a>{' '}
        (pour les transmettre à un autre service)
      </li>
      <li>
        <a href="/profil/mes-donnees.csv" download>
          Télécharger mes données au format CSV
        </a>{' '}
        (pour les lire dans un tableur)
      </li>
    </ul>
  );
}

/** What « Fermer mon espace client » deletes and what the agency keeps, then the password. */
export function CloseSpacePage({ ctx, errors }: { ctx: PageContext; errors?: FormErrors }) {
  const e = errors ?? {};
  return (
    <Layout ctx={ctx} title="Fermer mon espace client" narrow>
      <h1>Fermer mon espace client</h1>
      <ErrorSummary errors={e} labels={CLOSE_LABELS} />

      <section class="card" aria-labelledby="efface-titre">
        <h2 id="efface-titre">Ce qui sera effacé</h2>
        <ul>
          <li>votre identifiant de connexion et votre mot de passe : vous ne pourrez plus vous connecter ;</li>
          <li>
            vos sessions ouvertes, sur tous vos appareils, et les liens reçus par email qui n’ont pas encore servi ;
          </li>
          <li>
            vos informations personnelles : civilité, nom, prénom, adresse email, téléphone, adresse postale et vos
            préférences ;
          </li>
          <li>le lien entre votre espace et vos comptes.</li>
        </ul>
      </section>

      <section class="card" aria-labelledby="conserve-titre">
        <h2 id="conserve-titre">Ce que l’agence conserve</h2>
        <ul>
          <li>
            vos comptes, leurs écritures et leurs documents : ce sont les archives du syndicat des copropriétaires et de
            l’agence, qu’elle doit tenir que vous ayez un espace ou non ;
          </li>
          <li>
            les messages envoyés à votre gestionnaire et les corrections de coordonnées faites sur vos comptes : ce sont
            les traces de ce qui a été demandé à l’agence. Leur contenu reste, mais ils ne sont plus rattachés à votre
            nom ni à votre adresse email ;
          </li>
          <li>
            le journal de sécurité (connexions, changements, avec leur date et leur adresse IP), sous un numéro interne
            qui ne renvoie plus à votre nom.
          </li>
        </ul>
        <p>
          Les coordonnées que l’agence a pour chacun de vos comptes ne changent pas. Pour ouvrir un nouvel espace plus
          tard, demandez à l’agence un nouveau code d’accès.
        </p>
      </section>

      <section class="card" aria-labelledby="avant-titre">
        <h2 id="avant-titre">Avant de fermer</h2>
        <p>Vous pouvez garder une copie de ce que contient votre espace :</p>
        <DownloadLinks />
      </section>

      <section class="card" aria-labelledby="fermer-titre">
        <h2 id="fermer-titre">Confirmer la fermeture</h2>
        <p>
          La fermeture est immédiate et définitive. Un email vous la confirmera, puis vous serez ramené à la page de
          connexion.
        </p>
        <PostForm
          action="/profil/fermeture"
          csrfToken={ctx.csrfToken}
          submit="Fermer définitivement mon espace"
          secondary={<a href="/profil">Annuler</a>}
        >
          <Field
            name="password"
            label="Mot de passe actuel"
            type="password"
            error={e.password}
            autocomplete="current-password"
            required
          />
        </PostForm>
      </section>
    </Layout>
  );
}
